#!/bin/bash
# End-to-end check of the test guest's network side under QEMU (the
# reference VMM): ping, redis-cli, redis-benchmark, a malformed-RESP flood,
# durability of acknowledged writes across kill -9, the background
# workloads, and the hostile-guest mode. Needs root (network namespaces),
# qemu-system-x86_64 with KVM, redis-tools, iputils-ping, netcat-openbsd.
#
#   guest/tests/qemu-net-check.sh [-k]     (-k: keep the log directory)
#
# Traffic goes only to addresses inside two namespaces created here:
# jgh<pid> (bridge + QEMU's TAP) and jgc<pid> (client, 10.77.0.3/24,
# joined to the bridge by a veth). Everything started is stopped by PID on
# exit, the namespaces are deleted. Exits non-zero on any failure.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
elf=$here/build/jremus-guest.elf
keep=0
[ "${1:-}" = -k ] && keep=1
H=jgh$$ C=jgc$$
GUEST=10.77.0.2
work=$(mktemp -d /tmp/jg-netcheck.XXXXXX)
qpid=
fails=0 passes=0

cleanup() {
	stop_qemu
	ip netns del "$H" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	if [ $keep = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "ok: $*"; passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; fails=$((fails + 1)); summary; exit 1; }
summary() { echo "qemu-net-check: $passes passed, $fails failed"; }
cl() { ip netns exec "$C" "$@"; }
rcli() { cl timeout 10 redis-cli -h $GUEST "$@"; }

for t in qemu-system-x86_64 redis-cli redis-benchmark ping nc ip timeout; do
	command -v $t >/dev/null || die "missing $t (apt-get install qemu-system-x86 redis-tools iputils-ping netcat-openbsd iproute2)"
done
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
[ -f "$elf" ] || make -C "$here" >/dev/null || die "build failed"

# ---- network: client ns <-> veth <-> bridge in host ns <-> tap0 (QEMU) ----
ip netns add "$H" && ip netns add "$C" || die "ip netns add"
ip -n "$H" link set lo up
ip -n "$C" link set lo up
ip -n "$H" link add br0 type bridge && ip -n "$H" link set br0 up
ip -n "$H" tuntap add dev tap0 mode tap && ip -n "$H" link set tap0 master br0 && ip -n "$H" link set tap0 up
ip link add v0 netns "$H" type veth peer name v1 netns "$C" || die "veth"
ip -n "$H" link set v0 master br0 && ip -n "$H" link set v0 up
ip -n "$C" addr add 10.77.0.3/24 dev v1 && ip -n "$C" link set v1 up || die "client address"

# start_qemu LOG DISK|- APPEND [SECS]: QEMU in the host namespace, under timeout
start_qemu() {
	local log=$1 disk=$2 app=$3 secs=${4:-600}
	local d=()
	[ "$disk" != - ] && d=(-drive "file=$disk,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0)
	ip netns exec "$H" timeout --signal=KILL "$secs" qemu-system-x86_64 -M microvm,acpi=off \
		-enable-kvm -cpu host,-arch-capabilities -m 256M -nodefaults -no-user-config -display none \
		-serial "file:$log" -global virtio-mmio.force-legacy=false \
		-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
		-device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56 "${d[@]}" \
		-kernel "$elf" -device isa-debug-exit,iobase=0xf4,iosize=4 -append "$app" \
		>"$log.qemu" 2>&1 &
	qpid=$!                         # ip netns exec execs timeout: this is timeout's PID
	local i
	for i in $(seq 1 200); do
		grep -q "redis: listening" "$log" 2>/dev/null && return 0
		grep -q "error:\|PANIC" "$log" 2>/dev/null && break
		kill -0 $qpid 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" "$log.qemu" 2>/dev/null | tail -20
	return 1
}
# the QEMU process itself (child of timeout)
qemu_of() { pgrep -P "$qpid" qemu-system-x86 2>/dev/null | head -n 1; }
stop_qemu() {
	[ -n "$qpid" ] || return 0
	local q
	q=$(qemu_of)
	[ -n "$q" ] && kill -9 "$q" 2>/dev/null
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	qpid=
}

disk=$work/disk.img
truncate -s 256M "$disk"
APP="ip=$GUEST/24 gw=10.77.0.1 work=redis"

# ---- 1. boot with a disk ----
start_qemu "$work/boot1.log" "$disk" "$APP" || die "guest did not come up"
ok "guest up: $(grep 'redis: listening' "$work/boot1.log")"

# ---- 2. ping ----
if out=$(cl ping -c 10 -i 0.2 -W 2 $GUEST); then
	ok "ping: $(echo "$out" | tail -1)"
else
	bad "ping"
fi

# ---- 3. redis-cli ----
[ "$(rcli PING)" = PONG ] && ok "PING" || bad "PING"
[ "$(rcli SET k1 hello)" = OK ] && [ "$(rcli GET k1)" = hello ] && ok "SET/GET" || bad "SET/GET"
rcli DEL n >/dev/null
[ "$(rcli INCR n)" = 1 ] && [ "$(rcli INCRBY n 41)" = 42 ] && ok "INCR/INCRBY" || bad "INCR/INCRBY"
rcli NOSUCHCMD a | grep -q "unknown command" && ok "unknown command -> error" || bad "unknown command"
[ "$(printf 'PING\r\n' | cl timeout 5 nc -q 2 $GUEST 6379 | tr -d '\r')" = +PONG ] && ok "inline PING" || bad "inline PING"
rcli RPUSH l a b c >/dev/null
[ "$(rcli LRANGE l 0 -1 | tr '\n' ' ')" = "a b c " ] && ok "RPUSH/LRANGE" || bad "LRANGE"

# ---- 4. redis-benchmark ----
TESTS=ping,set,get,incr,lpush,rpush,lpop,rpop,lrange,mset
for P in 1 16; do
	out=$(cl timeout 300 redis-benchmark -h $GUEST -q -n 10000 -c 50 -P $P -t $TESTS 2>&1 | tr '\r' '\n' |
		grep -v '^ *$' | grep -v 'rps=')
	echo "$out" | sed "s/^/  [-P $P] /"
	n=$(echo "$out" | grep -c "requests per second")
	if echo "$out" | grep -qi "error" || [ "$n" -lt 13 ]; then
		bad "redis-benchmark -P $P ($n results)"
	else
		ok "redis-benchmark -c 50 -P $P: $n tests"
	fi
done

# ---- 5. malformed RESP ----
for i in $(seq 1 20); do head -c 100000 /dev/urandom | cl timeout 5 nc -q 1 $GUEST 6379 >/dev/null 2>&1; done
for s in '*99999999999\r\n' '*1\r\n$999999999\r\n' '*2\r\n$3\r\nGET\r\n$-5\r\n' '*1\r\n$4\r\nPINGxx' \
	 '*x\r\n' '$5\r\nhello\r\n' '*3\r\n$3\r\nSET\r\n'; do
	printf "$s" | cl timeout 5 nc -q 1 $GUEST 6379 >/dev/null 2>&1
done
head -c 300000 /dev/zero | tr '\0' a | cl timeout 5 nc -q 1 $GUEST 6379 >/dev/null 2>&1
[ "$(rcli PING)" = PONG ] && ok "server answers PING after a malformed-RESP flood" || bad "PING after flood"

# ---- 6. background workloads while serving ----
for w in "cpu" "mem 100" "mem 0"; do
	if [ "$(rcli DEBUG WORKLOAD $w)" = OK ] && [ "$(rcli PING)" = PONG ] &&
	   out=$(cl timeout 60 redis-benchmark -h $GUEST -q -n 2000 -t get 2>&1 | tr '\r' '\n' | grep "per second"); then
		ok "DEBUG WORKLOAD $w: $out; $(rcli INFO | grep -E '^workload_done' | tr -d '\r')"
	else
		bad "DEBUG WORKLOAD $w"
	fi
done
[ "$(rcli DEBUG WORKLOAD off)" = OK ] && ok "DEBUG WORKLOAD off" || bad "DEBUG WORKLOAD off"

# ---- 7. durability: 1000 INCRs, kill -9, boot again on the same disk ----
rcli DEL counter >/dev/null
t0=$(date +%s%N)
last=$(rcli -r 1000 INCR counter | tail -n 1)
t1=$(date +%s%N)
[ "$last" = 1000 ] || bad "1000 INCRs ended at '$last'"
ok "1000 sequential INCRs with append+flush: $(( (t1 - t0) / 1000000 )) ms ($(( 1000000000000 / (t1 - t0) )) /s)"
q=$(qemu_of)
[ -n "$q" ] && kill -9 "$q"
wait "$qpid" 2>/dev/null
qpid=
start_qemu "$work/boot2.log" "$disk" "$APP" || die "guest did not come up again on the same disk"
grep "aof: replayed" "$work/boot2.log"
v=$(rcli GET counter)
[ "$v" = 1000 ] && ok "counter survived kill -9: $v" || bad "counter after kill -9 is '$v', want 1000"
[ "$(rcli GET k1)" = hello ] && ok "earlier SET survived" || bad "k1 lost"
stop_qemu

# ---- 8. hostile guest: bad descriptor chains; QEMU must survive ----
for m in loop oob next idx; do
	log=$work/bad-$m.log
	if ! start_qemu "$log" - "$APP virtio_bad=$m virtio_bad_ms=300" 60; then
		bad "virtio_bad=$m: guest did not come up"
		stop_qemu
		continue
	fi
	for i in $(seq 1 30); do grep -q "virtio_bad:" "$log" && break; sleep 0.1; done
	sleep 1
	if grep -q "virtio_bad: handed" "$log" && kill -0 "$qpid" 2>/dev/null; then
		ok "virtio_bad=$m: $(grep -o 'virtio_bad:.*' "$log" | head -c 100); QEMU alive; QEMU said: $(head -n 1 "$log.qemu")"
	else
		bad "virtio_bad=$m"
		tail -5 "$log" "$log.qemu"
	fi
	stop_qemu
done

summary
[ $fails = 0 ]
