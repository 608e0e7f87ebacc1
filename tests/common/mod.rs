pub mod db;
pub mod html;
pub mod portal;
pub mod receivers;
