//! placeholder
#![allow(missing_docs)]
pub mod v1 {
    tonic::include_proto!("chancery.v1");
}
