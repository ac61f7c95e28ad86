//! What every handler shares: the store, the sender, the target policy, the admin token and the
//! name test sends are recorded under. Cheap to clone (handles and `Arc`s).

use hookd_core::target::TargetPolicy;
use hookd_send::Sender;
use hookd_store::Store;

use crate::auth::AdminToken;

#[derive(Clone, Debug)]
pub struct ApiState {
    pub store: Store,
    /// The same sender the worker uses: Send Test Event goes through the real send path.
    pub sender: Sender,
    /// Vets URLs typed into the API, as the CLI does.
    pub policy: TargetPolicy,
    /// Every `/api/` request must carry it as `Authorization: Bearer <token>`.
    pub token: AdminToken,
    /// Recorded as the `worker` of test attempts sent from the API.
    pub worker: String,
}
