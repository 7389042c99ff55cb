//! The events service: the bus that numbers, broadcasts and persists engine events.

pub(super) struct Events {
    /// Numbers, broadcasts and persists engine events.
    pub(super) bus: crate::events::EventBus,
}
