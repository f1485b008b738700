/**
 * The address rule (server/security/address.ts), as a table: which addresses
 * the portal may connect to, and which URL hosts name this computer or a
 * private network by their spelling.
 */
import { describe, expect, it } from "vitest";
import { isLocalHostname, isLoopbackHostname, isPublicAddress } from "@/server/security/address.ts";

describe("isPublicAddress", () => {
  it.each([
    // Public unicast.
    ["8.8.8.8", true],
    ["1.1.1.1", true],
    ["93.184.216.34", true],
    ["2606:4700:4700::1111", true],
    ["2001:4860:4860::8888", true],
    ["[2606:4700:4700::1111]", true],
    // IPv4-mapped and NAT64: judged by the IPv4 address inside.
    ["::ffff:8.8.8.8", true],
    ["::ffff:808:808", true],
    ["64:ff9b::808:808", true],
    // This computer.
    ["127.0.0.1", false],
    ["127.255.255.254", false],
    ["::1", false],
    ["[::1]", false],
    ["0.0.0.0", false],
    ["0.1.2.3", false],
    ["::", false],
    // Private networks (RFC 1918), shared (CGNAT), link-local (cloud metadata).
    ["10.0.0.1", false],
    ["172.16.0.1", false],
    ["172.31.255.255", false],
    ["192.168.1.1", false],
    ["100.64.0.1", false],
    ["100.127.255.255", false],
    ["169.254.169.254", false],
    // Documentation, benchmarking, protocol assignments, 6to4 relay, multicast, reserved, broadcast.
    ["192.0.2.1", false],
    ["198.51.100.1", false],
    ["203.0.113.1", false],
    ["198.18.0.1", false],
    ["198.19.255.255", false],
    ["192.0.0.1", false],
    ["192.88.99.1", false],
    ["224.0.0.1", false],
    ["239.255.255.250", false],
    ["240.0.0.1", false],
    ["255.255.255.255", false],
    // IPv6 special ranges.
    ["fd00::1", false],
    ["fc00::1", false],
    ["fe80::1", false],
    ["fe80::1%eth0", false],
    ["fec0::1", false],
    ["ff02::1", false],
    ["2001:db8::1", false],
    ["100::1", false],
    // IPv4 inside IPv6: mapped or NAT64 to a non-public address, and the transition forms refused outright.
    ["::ffff:127.0.0.1", false],
    ["::ffff:7f00:1", false],
    ["::ffff:10.0.0.1", false],
    ["::ffff:169.254.169.254", false],
    ["64:ff9b::7f00:1", false],
    ["64:ff9b::a00:1", false],
    ["64:ff9b:1::808:808", false],
    ["::127.0.0.1", false],
    ["::7f00:1", false],
    ["::8.8.8.8", false],
    ["2002:7f00:1::1", false],
    ["2002:808:808::1", false],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", false],
    ["::ffff:0:7f00:1", false],
    // Not an address in its plain spelling: never public.
    ["2130706433", false],
    ["0x7f000001", false],
    ["127.1", false],
    ["010.0.0.1", false],
    ["localhost", false],
    ["example.com", false],
    ["", false],
  ])("%s -> public: %s", (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe("isLocalHostname (a URL's host, by its spelling)", () => {
  it.each([
    ["localhost", true],
    ["LOCALHOST", true],
    ["localhost.", true],
    ["app.localhost", true],
    ["127.0.0.1", true],
    ["[::1]", true],
    ["[::ffff:7f00:1]", true],
    ["10.1.2.3", true],
    ["192.0.2.1", true],
    ["[fd00::1]", true],
    ["example.com", false],
    ["localhost.example.com", false],
    ["8.8.8.8", false],
    ["[2606:4700:4700::1111]", false],
  ])("%s -> %s", (hostname, expected) => {
    expect(isLocalHostname(hostname)).toBe(expected);
  });

  it("takes loopback to be localhost names and loopback literals only", () => {
    for (const host of ["localhost", "a.localhost", "127.0.0.1", "127.9.9.9", "[::1]", "[::ffff:7f00:1]"]) expect(isLoopbackHostname(host), host).toBe(true);
    for (const host of ["10.0.0.1", "0.0.0.0", "example.com", "[fd00::1]"]) expect(isLoopbackHostname(host), host).toBe(false);
  });
});
