"""rbdpy's RBD client library: the image context, its subsystems, and the async public face."""
