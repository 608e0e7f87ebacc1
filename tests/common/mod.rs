pub mod db;
pub mod html;
pub mod portal;
pub mod receivers;
pub mod small_fs;
