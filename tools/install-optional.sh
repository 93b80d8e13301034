#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Install optional Debian packages: the real servers the integration tests
# start themselves (without letting the packages start their own system
# instances: policy-rc.d 101) and the tracers `make bench` compares with.
# A package that cannot be had is reported and its tests skip; it never
# fails `make deps`.
missing=""
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -n "$missing" ] || { echo "all optional packages present"; exit 0; }
echo "installing optional packages:$missing"
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && ours=1
fi
apt-get update -qq >/dev/null 2>&1
for p in $missing; do
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
		echo "could not install $p: the tests that need it will be skipped"
done
[ -z "$ours" ] || rm -f "$policy"
exit 0
