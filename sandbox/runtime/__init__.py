"""Jobs: manifests, the static policy check, the SDK, and the dev and production runners."""
