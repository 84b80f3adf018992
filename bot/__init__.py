"""Lotse: brings newly arrived people together with volunteer integration guides."""
