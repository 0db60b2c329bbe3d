/*
 * LD_PRELOAD shim for the Janus peer of the bench: getifaddrs() with the IFF_LOOPBACK flag cleared.
 *
 * Janus skips loopback interfaces when it gathers ICE candidates, so on its own it offers only the
 * machine's other addresses; the bench must keep all traffic on 127.0.0.1. With this shim and
 * `ice_enforce_list = "lo"`, Janus's only candidate is 127.0.0.1 and nothing else changes.
 * Built by bench/peers/janus.ts with the system C compiler into the temp folder.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>

int getifaddrs(struct ifaddrs **ifap) {
  int (*real)(struct ifaddrs **) = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
  int rc = real(ifap);
  if (rc == 0) {
    for (struct ifaddrs *i = *ifap; i != 0; i = i->ifa_next) i->ifa_flags &= ~IFF_LOOPBACK;
  }
  return rc;
}
