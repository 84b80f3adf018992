"""Transports: the only modules that know a platform.  Each turns platform updates into Events
and renders Messages for its platform."""
