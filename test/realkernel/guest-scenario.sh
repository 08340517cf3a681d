#!/bin/busybox sh
# One probe mode inside the guest: start the agent, drive three kinds of real
# traffic, print /metrics and /events after each phase to the console.
# A mode named MODE@other runs with the other bpftrace (/opt/bpftrace-other,
# build-initramfs.sh) and the phases of flx_other_phases.
#   FLX-SNAP <mode> <phase>        then the /metrics text, then FLX-END
#   FLX-EVENTS <mode> <phase> <json of /events>
mode=$1
kind=${mode%@*}
bpftrace_flag=
case $mode in *@other) bpftrace_flag=--bpftrace.path=/opt/bpftrace-other/launch.sh ;; esac
ip=/usr/sbin/ip
py=/usr/bin/python3
# one port per mode: a Prometheus on the host tells the runs apart by instance
case $kind in fentry) port=10046 ;; *) port=10045 ;; esac
url=http://127.0.0.1:$port
cd /app

echo "FLX-DOCTOR $mode $(node dist/src/cli.js doctor --mode "$kind" $bpftrace_flag | grep 'reads kernel types')"
node dist/src/cli.js serve --mode "$kind" $bpftrace_flag --web.listen-address=:$port --sample.rate=50 --log.level=info \
  --state.dir=/var/lib/fraglist-exporter --kernel.crash-dirs=/sys/fs/pstore > "/tmp/agent-$mode.log" 2>&1 &
agent=$!
t0=$(date +%s)
ready=0
# bounded by time, each request too (this busybox's wget has no -T): a hung agent
# still leaves its log on the console before the host's limit for the guest
while [ $(( $(date +%s) - t0 )) -lt 240 ]; do
  if timeout 5 wget -q -O /dev/null "$url/readyz" 2>/dev/null; then ready=1; break; fi
  kill -0 $agent 2>/dev/null || break
  sleep 1
done
echo "FLX-READY $mode $ready $(( $(date +%s) - t0 ))"
if [ $ready != 1 ]; then
  sed "s/^/FLX-LOG $mode /" "/tmp/agent-$mode.log" | tail -40
  ps | sed "s/^/FLX-LOG $mode ps /"
  kill $agent 2>/dev/null; wait $agent 2>/dev/null
  exit 0
fi

snap() {
  echo "FLX-SNAP $mode $1"
  # the declarations too: a crash state's family has no series before its first skb, and is 0 then
  wget -q -O - "$url/metrics" | grep -E '^(# TYPE )?frag_list_'
  echo "FLX-END"
  echo "FLX-EVENTS $mode $1 $(wget -q -O - "$url/events")"
}
settle() { sleep 3; }   # two print intervals: the kernel counters reach the agent
# a sink (traffic.py) is bound: under TCG a python takes seconds to start, and a sender must not race it
await_sink() {
  i=0
  while [ ! -e "/tmp/sink-$1.ready" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  rm -f "/tmp/sink-$1.ready"
}

snap start
# the crash records the agent read (pstore: ramoops, guest-init.sh), and doctor's word on them
echo "FLX-CRASHES $mode $(wget -q -O - "$url/crashes")"
node dist/src/cli.js doctor --mode "$kind" $bpftrace_flag --state.dir=/var/lib/fraglist-exporter --kernel.crash-dirs=/sys/fs/pstore \
  | grep -A1 -E 'crash records|last words' | sed "s/^/FLX-DOCTOR-CRASH $mode /"
# a Prometheus on the host reads them (the crash page)
[ "${flx_report_hold:-0}" -gt 0 ] && sleep "$flx_report_hold"
# the phases to run (flx_phases on the kernel command line), all by default
phases=${flx_phases:-tcp,udpgro,pull,tap,overrun}
case $mode in *@other) phases=${flx_other_phases:-$phases} ;; esac
want() { case ",$phases," in *",$1,"*) return 0 ;; esac; return 1; }

if want tcp; then
# 1. TCP across a veth pair, TSO off on the sender: software GSO -> skb_segment
$ip netns add ta; $ip netns add tb
$ip link add va netns ta type veth peer name vb netns tb
$ip -n ta addr add 198.18.10.1/24 dev va; $ip -n tb addr add 198.18.10.2/24 dev vb
$ip -n ta link set va up; $ip -n tb link set vb up; $ip -n ta link set lo up; $ip -n tb link set lo up
$ip netns exec ta ethtool -K va tso off >/dev/null
$ip netns exec tb $py test/realkernel/traffic.py tcp-sink 198.18.10.2 5201 &
sink=$!
await_sink 5201
# a sender that fails ends its sink: the phase goes on (and its counts tell), it does not hang the guest
$ip netns exec ta $py test/realkernel/traffic.py tcp-send 198.18.10.2 5201 8000000 || kill $sink
wait $sink
settle; snap tcp
fi

if want udpgro; then
# 2. UDP_SEGMENT sends into a veth with rx-gro-list: real frag_list skbs
$ip netns add ua; $ip netns add ub
$ip link add ua0 netns ua type veth peer name ub0 netns ub
$ip -n ua addr add 198.18.11.1/24 dev ua0; $ip -n ub addr add 198.18.11.2/24 dev ub0
$ip -n ua link set ua0 up; $ip -n ub link set ub0 up
$ip netns exec ua ethtool -K ua0 tx-udp-segmentation off >/dev/null
# veth NAPI (needed for GRO) comes on only when gro is switched on
$ip netns exec ub ethtool -K ub0 gro off >/dev/null; $ip netns exec ub ethtool -K ub0 gro on rx-gro-list on >/dev/null
$ip netns exec ub $py test/realkernel/traffic.py udp-sink 198.18.11.2 6000 6 > /tmp/udp-sink.txt &
sink=$!
await_sink 6000
$ip netns exec ua $py test/realkernel/traffic.py udp-gso-send 198.18.11.2 6000 200 60 1000
wait $sink
echo "FLX-UDP $mode $(cat /tmp/udp-sink.txt)"
settle; snap udpgro
fi

if want pull; then
# 3. a tc program pulls all data of UDP fraglist-GRO skbs (bpf_skb_pull_data, as NAT does) on a
#    router's rx-gro-list veth, which forwards them out a veth without tx-gso-list: software GSO
#    of FRAGLIST without a list (fixed kernels route it to skb_segment; 5.10 crashes in list segmentation).
#    The router's receiving veth runs an XDP_PASS program (a veth runs GRO on 5.10 only with one); a netem
#    delay on its egress holds each skb before software GSO, as a shaping qdisc would.
$ip netns add pa; $ip netns add pr; $ip netns add pb
$ip link add pa0 netns pa type veth peer name pr0 netns pr
$ip link add pr1 netns pr type veth peer name pb0 netns pb
$ip -n pa addr add 198.18.14.1/24 dev pa0; $ip -n pr addr add 198.18.14.2/24 dev pr0
$ip -n pr addr add 198.18.15.1/24 dev pr1; $ip -n pb addr add 198.18.15.2/24 dev pb0
for l in "pa pa0" "pr pr0" "pr pr1" "pb pb0"; do set -- $l; $ip -n $1 link set $2 up; done
$ip -n pa route add 198.18.15.0/24 via 198.18.14.2
$ip netns exec pr sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
$ip netns exec pa ethtool -K pa0 tso off tx-udp-segmentation off >/dev/null
$ip netns exec pr ethtool -K pr0 gro off >/dev/null; $ip netns exec pr ethtool -K pr0 gro on rx-gro-list on >/dev/null
$ip netns exec pr ethtool -K pr1 tx-gso-list off >/dev/null 2>&1
# a permanent neighbour: the forwarded skbs go straight to the delay queue, not to ARP's queue of 3 (behind a delayed ARP request)
$ip -n pr neigh add 198.18.15.2 lladdr "$($ip -n pb link show pb0 | awk '/link\/ether/ {print $2}')" dev pr1 nud permanent
$ip -n pr link set dev pr0 xdpdrv obj test/realkernel/xdp_pass.bpf.o sec xdp
delay_ms=${flx_delay_ms:-2000}
# 0: no delay queue, the skb goes from the pull to segmentation in one softirq
[ "$delay_ms" -gt 0 ] && $ip netns exec pr tc qdisc add dev pr1 root netem delay ${delay_ms}ms
echo "FLX-XDP $mode $($ip -n pr link show dev pr0 | grep -o 'prog/xdp id [0-9]*')"
$ip netns exec pr tc qdisc add dev pr0 clsact
$ip netns exec pr tc filter add dev pr0 ingress bpf da obj test/realkernel/pull_all.bpf.o sec tc
echo "FLX-TC $mode $($ip netns exec pr tc filter show dev pr0 ingress | tr '\n' ' ')"
echo "FLX-SEND $mode pull delay_ms=$delay_ms"
$ip netns exec pa $py test/realkernel/traffic.py udp-gso-send 198.18.15.2 6001 100 60 1000
sleep $(( (delay_ms + 999) / 1000 ))   # the last skb leaves the delay queue
settle; snap pull
# the page (FRAGLIST warning, INCONSISTENT at skb_segment naming bpf_skb_pull_data) reaches the host's Prometheus
# and Alertmanager before the tap phase adds INCONSISTENT skbs with no culprit
[ "${flx_hold:-0}" -gt 0 ] && sleep "$flx_hold"
fi

if want tap; then
# 4. seed-INCONSISTENT skbs from a TAP (IFF_VNET_HDR), forwarded out a TSO-off veth
$ip netns add fa; $ip netns add fb
$ip -n fa tuntap add dev tap0 mode tap vnet_hdr
$ip -n fa addr add 198.18.12.1/24 dev tap0; $ip -n fa link set tap0 up
$ip link add fv0 netns fa type veth peer name fv1 netns fb
$ip -n fa addr add 198.18.13.1/24 dev fv0; $ip -n fb addr add 198.18.13.2/24 dev fv1
$ip -n fa link set fv0 up; $ip -n fb link set fv1 up; $ip -n fa link set lo up
$ip netns exec fa ethtool -K fv0 tso off >/dev/null
$ip netns exec fa sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter; echo 0 > /proc/sys/net/ipv4/conf/tap0/rp_filter'
# its pid, as this (the host's) PID namespace sees it: ip netns exec execs python in place
$ip netns exec fa $py test/helpers/tap_inject.py tap0 198.18.12.2 198.18.13.2 200 & injector=$!
wait $injector
echo "FLX-INJECTOR $mode $injector"
settle; snap tap
fi

# 5. OVERRUN: a test module (built against this kernel's headers where the host's gcc matches) hands
#    pskb_expand_head skbs whose data_len claims paged bytes they do not have
if want overrun && [ -e test/realkernel/overrun_skb.ko ]; then
  insmod test/realkernel/overrun_skb.ko count=50
  echo "FLX-MODULE $mode $(dmesg | grep 'overrun_skb:' | tail -1)"
  rmmod overrun_skb
  settle; snap overrun
  [ "${flx_hold:-0}" -gt 0 ] && sleep "$flx_hold"
fi


kill $agent; wait $agent
echo "FLX-EXIT $mode $?"
grep -E '"level":(40|50)' "/tmp/agent-$mode.log" | grep -v 'sampled' | head -5 | sed "s/^/FLX-LOG $mode /"
for ns in ta tb ua ub fa fb pa pr pb; do $ip netns del $ns 2>/dev/null; done
