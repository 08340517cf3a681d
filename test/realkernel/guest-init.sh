#!/bin/busybox sh
# /init of the real-kernel test guest. Settings come from the kernel command
# line (unknown key=value parameters reach init's environment):
#   flx_modes=kprobe,fentry   the probe modes to run the scenario in
#   flx_net=1                 bring up eth0 (virtio, qemu user networking)
#   flx_hold=N                seconds to hold after the tc pull phase (a Prometheus on the host pages)
#   flx_delay_ms=N            the netem delay on the router's egress in the tc pull phase
#   flx_other_phases=a,b      the phases of the modes named MODE@other (the other bpftrace)
#   flx_bench=ROUNDS[:SENDS]  instead of the scenarios: guest_bench.py (the modes' cost per hooked call)
#   flx_boots=P@D,P@D,...     boots that follow each other (a panic reboots, panic=1): the Nth boot runs the
#                             phases P (a '+' list, or none) with the pull delay D; the boot count is kept on
#                             the disk /dev/vda, which is also the agent's state directory
#   flx_report_hold=N         seconds each run holds after reading the crash records (a Prometheus on the host pages)
# Every boot loads ramoops on 1 MiB of RAM the kernel command line reserves (memmap=1M$0x80000000): qemu keeps
# RAM over the reboot after a panic, and the crash record is in /sys/fs/pstore on the next boot.
# With flx_net=1 a webhook receiver on port 10047 prints what the host's
# Alertmanager sends it to the console, in order with the kernel's messages.
# the host's own tools first (util-linux setpriv, iproute2), busybox for the rest
export PATH=/usr/bin:/usr/sbin:/bin:/sbin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t tracefs nodev /sys/kernel/tracing
mount -t debugfs nodev /sys/kernel/debug
mkdir -p /dev/net /run/netns
[ -e /dev/net/tun ] || mknod /dev/net/tun c 10 200
# busybox insmod resolves no dependencies: passes until each module's are in
for pass in 1 2 3; do for m in /lib/modules/*.ko; do insmod "$m" 2>/dev/null; done; done
# ramoops: a dmesg record of 256 KiB per oops or panic, in the reserved region
insmod /lib/modules/pstore/ramoops.ko mem_address=0x80000000 mem_size=0x100000 record_size=0x40000 2>/dev/null
mount -t pstore pstore /sys/fs/pstore
echo "FLX-PSTORE-BACKEND $(cat /sys/module/pstore/parameters/backend 2>/dev/null)"
mkdir -p /var/lib/fraglist-exporter
boot=1
if [ -n "$flx_boots" ] && [ -b /dev/vda ] && mount -t ext4 /dev/vda /var/lib/fraglist-exporter; then
  boot=$(( $(cat /var/lib/fraglist-exporter/boots 2>/dev/null || echo 0) + 1 ))
  echo "$boot" > /var/lib/fraglist-exporter/boots; sync
  step=$(echo "$flx_boots" | cut -d, -f"$boot")
  flx_phases=$(echo "${step%@*}" | tr + ,); flx_delay_ms=${step#*@}
  export flx_phases flx_delay_ms
  echo "FLX-BOOT $boot ${step:-none} $(date +%s)"
  # the records as ramoops kept them (their last lines: the oops)
  for f in /sys/fs/pstore/dmesg-*; do [ -e "$f" ] && echo "FLX-PSTORE-FILE $f $(stat -c %Y "$f")" && tail -n 120 "$f" | sed 's/^/FLX-PSTORE /'; done
fi
/usr/sbin/ip link set lo up
# user networking's guest address: the host's Prometheus scrapes the agent through a forwarded port
if [ "$flx_net" = 1 ]; then
  /usr/sbin/ip addr add 10.0.2.15/24 dev eth0; /usr/sbin/ip link set eth0 up
  /usr/bin/python3 /app/test/realkernel/traffic.py webhook 0.0.0.0 10047 &
fi
echo "FLX-KERNEL $(uname -r)"
# the list functions as the kernel lists them: the tests check the agent's attach decisions against this, not against the agent
echo "FLX-KALLSYMS$(for f in skb_gro_receive_list skb_segment_list; do grep -q " $f\$" /proc/kallsyms && printf ' %s' "$f"; done)"
if [ -n "$flx_bench" ]; then
  /usr/bin/python3 /app/test/realkernel/guest_bench.py $(echo "$flx_bench" | tr : ' ')
else
  for mode in $(echo "${flx_modes:-kprobe}" | tr , ' '); do
    sh /app/test/realkernel/guest-scenario.sh "$mode"
  done
fi
echo FLX-DONE
# boots to go: the next one (a panic would have rebooted without this)
if [ -n "$flx_boots" ] && [ "$boot" -lt "$(echo "$flx_boots" | tr , '\n' | wc -l)" ]; then umount /var/lib/fraglist-exporter; reboot -f; fi
poweroff -f
