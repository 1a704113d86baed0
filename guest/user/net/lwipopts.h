/* lwIP configuration of the test guest: NO_SYS (one thread, raw API, main
 * loop polls the NIC and calls sys_check_timeouts), IPv4 with ARP, ICMP and
 * TCP only. Sized for redis-benchmark with 50 parallel clients. */
#ifndef JG_LWIPOPTS_H
#define JG_LWIPOPTS_H

#define NO_SYS                  1
#define SYS_LIGHTWEIGHT_PROT    0
#define LWIP_SOCKET             0
#define LWIP_NETCONN            0
#define LWIP_NETIF_API          0

#define LWIP_IPV4               1
#define LWIP_IPV6               0
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define LWIP_ICMP               1
#define LWIP_RAW                0
#define LWIP_UDP                0
#define LWIP_TCP                1
#define LWIP_DHCP               0
#define LWIP_AUTOIP             0
#define LWIP_DNS                0
#define LWIP_IGMP               0
#define IP_REASSEMBLY           0
#define IP_FRAG                 0
#define LWIP_STATS              0
#define LWIP_NETIF_LOOPBACK     0
#define LWIP_HAVE_LOOPIF        0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK   0

/* memory: lwIP's own heap and pools, in the program's bss */
#define MEM_ALIGNMENT           8
#define MEM_SIZE                (4 * 1024 * 1024)
#define MEMP_NUM_PBUF           256
#define MEMP_NUM_TCP_PCB        160
#define MEMP_NUM_TCP_PCB_LISTEN 4
#define MEMP_NUM_TCP_SEG        2048
#define MEMP_NUM_REASSDATA      0
#define MEMP_NUM_ARP_QUEUE      32
#define PBUF_POOL_SIZE          1024
#define PBUF_POOL_BUFSIZE       1536

/* TCP */
#define TCP_MSS                 1460
#define TCP_WND                 (32 * TCP_MSS)
#define TCP_SND_BUF             (32 * TCP_MSS)
#define TCP_SND_QUEUELEN        (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_SNDLOWAT            (TCP_SND_BUF / 2)
#define TCP_QUEUE_OOSEQ         1
#define TCP_LISTEN_BACKLOG      1
#define TCP_DEFAULT_LISTEN_BACKLOG 128
#define LWIP_TCP_KEEPALIVE      0
#define TCP_OVERSIZE            TCP_MSS
#define LWIP_WND_SCALE          0

#define ARP_TABLE_SIZE          32
#define ARP_QUEUEING            1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0

/* checksums in software both ways (no offloads negotiated) */
#define CHECKSUM_GEN_IP         1
#define CHECKSUM_GEN_TCP        1
#define CHECKSUM_GEN_ICMP       1
#define CHECKSUM_CHECK_IP       1
#define CHECKSUM_CHECK_TCP      1
#define CHECKSUM_CHECK_ICMP     1
#define LWIP_CHECKSUM_ON_COPY   1

#define LWIP_DEBUG              0
#define LWIP_NOASSERT           0
#endif
