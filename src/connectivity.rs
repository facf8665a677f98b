//! Whether the gateway answers. A call that gets no answer marks it unreachable; the
//! shell then retries on its own, and every view that reads `recoveries` reloads once
//! the gateway is back, without a page reload.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Connectivity {
    reachable: RwSignal<bool>,
    recoveries: RwSignal<u64>,
}

impl Connectivity {
    pub fn new() -> Connectivity {
        Connectivity {
            reachable: RwSignal::new(true),
            recoveries: RwSignal::new(0),
        }
    }

    /// Records the outcome of a call: `answered` is false when no HTTP answer came.
    pub fn record(&self, answered: bool) {
        match (answered, self.reachable.get_untracked()) {
            (true, false) => {
                self.reachable.set(true);
                self.recoveries.update(|n| *n += 1);
            }
            (false, true) => self.reachable.set(false),
            _ => {}
        }
    }

    pub fn is_reachable(&self) -> bool {
        self.reachable.get()
    }

    /// Changes each time the gateway comes back; read it in a resource to reload then.
    pub fn recoveries(&self) -> u64 {
        self.recoveries.get()
    }
}

pub fn use_connectivity() -> Connectivity {
    expect_context::<Connectivity>()
}
