"""End-to-end tests: real web servers in front of a planted app, read back by logtriage."""
