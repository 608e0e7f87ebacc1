pub mod session_store;
