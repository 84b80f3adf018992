"""Platform-neutral core: events and messages, the transport protocol, router, dialogs, i18n."""
