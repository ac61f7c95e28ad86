//! The network edge: one signed POST, end to end. Shared by the worker and by Send Test Event, so
//! what works in a test works for real.
//!
//! - [`resolve`]: DNS that vets every address and hands the client only vetted ones (pinning).
//! - [`sender`]: builds the signed request, sends it, reads a capped body, and classifies the
//!   result. A receiver's failure is data ([`Response`]), never an `Err`.

pub mod resolve;
pub mod sender;

pub use sender::{Request, Response, Sender, SenderConfig};
