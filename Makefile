# The README's commands. Each script installs what it needs (pinned) on first use.
.PHONY: demo test test-matrix benchmark benchmark-sizes benchmark-transfer hardening cloud-start cloud-stop cloud-status

demo:  ## set up, start the local two-region cloud and run the main job on it
	bash hacking/demo.sh

test:  ## every check CI runs: sanity, units, lint, docs, changelog, build, tests on the local cloud
	bash hacking/test.sh

test-matrix:  ## ansible-test sanity and units on every ansible-core release of the claimed range this machine's Pythons allow
	bash hacking/matrix.sh

cloud-start:
	python3 tests/localcloud/localcloud.py start

cloud-stop:
	python3 tests/localcloud/localcloud.py stop

cloud-status:
	python3 tests/localcloud/localcloud.py status

benchmark:  ## a DLO between regions: our modules beside the swift CLI, rclone and raw curl (about 10 minutes)
	bash hacking/benchmark.sh

benchmark-sizes:  ## swift_dlo_copy beside raw curl at 1, 2, 4 and 8 GiB: is the cost linear in size (about 25 minutes, 25 GiB of disk)
	bash hacking/benchmark.sh --sizes 1,2,4,8

benchmark-transfer:  ## the whole transfer_image playbook per path, phase by phase, against a raw floor; parallel images; the bandwidth cap (about 35 minutes)
	bash hacking/benchmark.sh transfer

hardening:  ## the long kill trials make test runs once: 10 seeded SIGTERM and 10 SIGKILL kills of the role's copy (about 25 minutes)
	bash hacking/hardening.sh
