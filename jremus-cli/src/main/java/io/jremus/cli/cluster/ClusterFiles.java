package io.jremus.cli.cluster;

import java.util.List;

/** The text of the files a {@link PacemakerCluster} writes: corosync.conf, the node init, CIB pieces. */
final class ClusterFiles {
    private ClusterFiles() {
    }

    /** corosync.conf for every node: knet with crypto, a named nodelist on the ring network, no syslog. */
    static String corosyncConf(String clusterName, List<String> nodes, List<String> ringIps, int tokenMillis) {
        StringBuilder s = new StringBuilder();
        s.append("# written by io.jremus.cli.cluster.PacemakerCluster\n");
        s.append("totem {\n");
        s.append("    version: 2\n");
        s.append("    cluster_name: ").append(clusterName).append('\n');
        s.append("    transport: knet\n");
        s.append("    crypto_cipher: aes256\n");
        s.append("    crypto_hash: sha256\n");
        if (tokenMillis > 0) s.append("    token: ").append(tokenMillis).append('\n');
        s.append("}\n\nnodelist {\n");
        for (int i = 0; i < nodes.size(); i++) {
            s.append("    node {\n");
            s.append("        ring0_addr: ").append(ringIps.get(i)).append('\n');
            s.append("        name: ").append(nodes.get(i)).append('\n');
            s.append("        nodeid: ").append(i + 1).append('\n');
            s.append("    }\n");
        }
        s.append("}\n\nquorum {\n    provider: corosync_votequorum\n}\n\n");
        s.append("""
                logging {
                    to_logfile: yes
                    logfile: /var/log/corosync/corosync.log
                    to_syslog: no
                    to_stderr: no
                    timestamp: hires
                }
                """);
        return s.toString();
    }

    /**
     * The node init, run as {@code ip netns exec PFX-NODE unshare --mount --uts --propagation
     * private bash node-init.sh NODE BASE}. It builds the node's private view of the file system,
     * records its PID and its mount- and network-namespace ids under BASE/run, starts corosync,
     * waits until it answers, starts pacemakerd and stays as the parent of both (the "holder" that
     * tools nsenter through).
     *
     * <p>/run gets a fresh tmpfs (corosync's pid lock, OCF state files and /run/resource-agents are
     * per node). Because BASE may itself be under /run (the default), the tmpfs is prepared beside
     * the node's directory, BASE is bound into it at the same path, and only then is it moved over
     * /run: the node keeps seeing BASE (records, fence.log, its own directories).
     */
    static final String NODE_INIT = """
            #!/bin/bash
            # Node init of io.jremus.cli.cluster.PacemakerCluster (generated; do not edit).
            # Runs inside the node's network namespace and a new, private mount + UTS namespace.
            # mount -n: the host's /run/mount/utab is not this namespace's business.
            set -eu
            node=$1
            base=$2
            d=$base/nodes/$node
            run=$base/run
            echo "$(date '+%F %T.%3N') init $node: pid $$"
            hostname "$node"
            mount -n --bind "$d/etc-corosync" /etc/corosync
            mount -n --bind "$d/var-lib-corosync" /var/lib/corosync
            mount -n --bind "$d/var-lib-pacemaker" /var/lib/pacemaker
            mount -n --bind "$d/var-log-corosync" /var/log/corosync
            mount -n --bind "$d/var-log-pacemaker" /var/log/pacemaker
            mount -n -t tmpfs -o mode=1777 tmpfs /dev/shm
            mount -n -t overlay overlay -o "lowerdir=$base/sbin:/usr/sbin" /usr/sbin
            if [ -d "$base/ocf" ]; then
                mount -n -t overlay overlay -o "lowerdir=$base/ocf:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d
            fi
            fresh=$d/run-tmpfs
            mkdir -p "$fresh"
            mount -n -t tmpfs -o mode=755 tmpfs "$fresh"
            mkdir -p "$fresh/resource-agents" "$fresh/lock"
            case "$base" in
                /run/*) mkdir -p "$fresh/${base#/run/}"; mount -n --bind "$base" "$fresh/${base#/run/}" ;;
            esac
            mount -n --move "$fresh" /run
            stat -L -c %i /proc/$$/ns/net > "$run/$node.netns"
            stat -L -c %i /proc/$$/ns/mnt > "$run/$node.mntns.tmp"
            mv "$run/$node.mntns.tmp" "$run/$node.mntns"
            echo $$ > "$run/$node.holder"
            corosync -f >> "$d/var-log-corosync/stdout.log" 2>&1 &
            echo $! > "$run/$node.corosync"
            for _ in $(seq 400); do
                corosync-cfgtool -s > /dev/null 2>&1 && break
                sleep 0.05
            done
            PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none PCMK_blackbox=no \\
                pacemakerd >> "$d/var-log-pacemaker/stdout.log" 2>&1 &
            echo $! > "$run/$node.pacemakerd"
            echo "$(date '+%F %T.%3N') init $node: corosync and pacemakerd started"
            wait
            echo "$(date '+%F %T.%3N') init $node: daemons exited"
            """;

    /** The fence device: fence_nskill for every node (static list), records and fence.log in {@code piddir}. */
    static String fenceDevice(List<String> nodes, String piddir) {
        return """
                <primitive id="fence-nskill" class="stonith" type="fence_nskill">
                  <instance_attributes id="fence-nskill-ia">
                    <nvpair id="fence-nskill-hosts" name="pcmk_host_list" value="%s"/>
                    <nvpair id="fence-nskill-check" name="pcmk_host_check" value="static-list"/>
                    <nvpair id="fence-nskill-piddir" name="piddir" value="%s"/>
                  </instance_attributes>
                  <operations>
                    <op id="fence-nskill-monitor" name="monitor" interval="60s"/>
                  </operations>
                </primitive>
                """.formatted(String.join(" ", nodes), piddir);
    }
}
