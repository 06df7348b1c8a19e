/**
 * Port lists as users write them: "22,80,443", "1-1024", "top-100", "-" (all), mixed freely.
 */

/**
 * TCP ports most often found open on internet-facing hosts, most common first. Hand-ranked for
 * this project from the services that matter to exposure management (remote access, mail,
 * web, databases, file sharing, management interfaces); "top-N" takes the first N.
 */
export const COMMON_TCP_PORTS: readonly number[] = [
  80, 443, 22, 21, 25, 23, 3389, 110, 143, 53, 445, 139, 8080, 8443, 3306, 5432, 993, 995, 587, 465,
  1723, 111, 135, 5900, 6379, 27017, 9200, 11211, 873, 2049, 1433, 1521, 8000, 8888, 5000, 5060,
  2222, 179, 389, 636, 161, 137, 3000, 9000, 8081, 8008, 10000, 6443, 2375, 2376, 5672, 15672, 9092,
  2181, 5601, 9300, 7001, 7002, 8009, 8161, 61616, 4848, 9090, 9443, 8880, 4443, 5985, 5986, 1080,
  3128, 8118, 1194, 500, 4500, 5353, 119, 513, 514, 515, 631, 548, 2082, 2083, 2086, 2087, 2095,
  2096, 3268, 3269, 5222, 5269, 6000, 6667, 7474, 8086, 8500, 8529, 9042, 9100, 9418, 11111, 25565,
  26257, 27018, 28017, 50000, 50070, 49152, 1883, 8883, 5683, 502, 102, 20000, 47808, 44818, 1911,
  2404, 4911, 5094, 789, 18245, 37777, 554, 8554, 1935, 81, 82, 88, 8088, 8089, 8181, 8282, 8787,
  9001, 9091, 10443, 7443, 2052, 2053, 2083, 3478, 5061, 5222, 6660, 6697, 10050, 10051, 4369,
  25672, 5984, 6984, 7000, 7199, 8001, 8002, 8020, 8042, 8983, 9093, 9094, 9999, 16010, 16992,
  16993, 623, 902, 903, 5480, 8006, 3260, 4786, 2000, 1720, 1812, 1813, 19999, 32400, 8096, 8123,
  1900, 5357, 3702, 69, 123, 5004, 6001, 6002, 873, 990, 989, 992,
];

/** A port list the parser rejected. */
export class PortSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PortSpecError';
  }
}

const TOP = [...new Set(COMMON_TCP_PORTS)];

/** Parses a port list into sorted unique ports; throws PortSpecError naming the bad part. */
export function parsePorts(spec: string): number[] {
  const ports = new Set<number>();
  const parts = spec.split(',').map((p) => p.trim());
  if (spec.trim() === '') throw new PortSpecError('the port list is empty');
  for (const part of parts) {
    if (part === '-' || part === 'all') {
      for (let p = 1; p <= 65535; p++) ports.add(p);
      continue;
    }
    const top = /^top-(\d+)$/i.exec(part);
    if (top !== null) {
      const n = Number(top[1]);
      if (n < 1 || n > TOP.length) {
        throw new PortSpecError(`"${part}": top-N takes N from 1 to ${String(TOP.length)}`);
      }
      for (const p of TOP.slice(0, n)) ports.add(p);
      continue;
    }
    const range = /^(\d{1,5})?-(\d{1,5})?$/.exec(part);
    const single = /^\d{1,5}$/.exec(part);
    if (range === null && single === null) {
      throw new PortSpecError(
        `"${part}" is not a port, a range like 1-1024, "top-N" or "-" (every port)`,
      );
    }
    const low = single !== null ? Number(part) : Number(range![1] ?? 1);
    const high = single !== null ? low : Number(range![2] ?? 65535);
    for (const p of [low, high]) {
      if (p < 1 || p > 65535) throw new PortSpecError(`port ${String(p)} is outside 1-65535`);
    }
    if (low > high) throw new PortSpecError(`"${part}": the range runs backwards`);
    for (let p = low; p <= high; p++) ports.add(p);
  }
  return [...ports].sort((a, b) => a - b);
}

/** Compact text form of a sorted port list: "21-23,80,443". */
export function formatPorts(ports: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ports.length;) {
    let j = i;
    while (j + 1 < ports.length && ports[j + 1] === ports[j]! + 1) j++;
    parts.push(i === j ? String(ports[i]) : `${String(ports[i])}-${String(ports[j])}`);
    i = j + 1;
  }
  return parts.join(',');
}
