//! syncward-core: the pure logic of syncward. No network, no files beyond
//! what the caller hands in: the shared model, the failure classifier and
//! its knowledge base, signatures, and the diagnosis.

pub mod check;
pub mod classify;
pub mod diagnose;
pub mod event;
pub mod model;
pub mod signature;

pub use classify::{Classification, Classifier, Input, Memo};
pub use event::{Event, Op, Origin, Status};
pub use model::{Crm, Layer};
pub use signature::signature;
