#!/bin/sh
# Run the test guest under QEMU/KVM with the reference flags.
#   guest/run-qemu.sh [-t SECONDS] [-s SMP] "work=cpu iters=1000000"
# Exit status is QEMU's: 1 = guest powered off with code 0, 2c+1 = code c,
# 124 = timed out (QEMU killed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=30
smp=2
while getopts t:s: o; do
	case $o in
	t) secs=$OPTARG ;;
	s) smp=$OPTARG ;;
	*) echo "usage: $0 [-t secs] [-s smp] [cmdline]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
exec timeout --signal=KILL "$secs" qemu-system-x86_64 -M microvm -enable-kvm \
	-cpu host,-arch-capabilities -m 256M -smp "$smp" -display none -nodefaults \
	-no-user-config -serial stdio -kernel "$here/build/jremus-guest.elf" \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -append "${1:-}"
