"""The packs symcost ships, each in its own package: the Python a pack needs beyond its formula file."""
