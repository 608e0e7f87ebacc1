pub mod db;
pub mod portal;
