// Writes examples/example-corp.nmap.xml: the exposure data `npm start` loads into an empty
// database (serve --example-data), so a first look at the console shows issues, services and
// assets. It is the output shape of `nmap -sT -sV -oX` over Example Corp's made-up networks,
// which are documentation ranges (RFC 5737) that reach no one. Deterministic: the same bytes
// on every run (a seeded generator), so the file can be checked in and regenerated.
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

let seed = 20261124;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const pick = (list) => list[Math.floor(random() * list.length)];

// [port, service name, product, version, extra scripts]
const SERVICES = [
  [22, 'ssh', 'OpenSSH', '7.4'],
  [22, 'ssh', 'OpenSSH', '9.2p1 Debian 2+deb12u3'],
  [23, 'telnet', 'Linux telnetd', undefined],
  [21, 'ftp', 'vsftpd', '3.0.3'],
  [80, 'http', 'nginx', '1.18.0', { title: 'Welcome to nginx!', server: 'nginx/1.18.0' }],
  [
    80,
    'http',
    'Apache httpd',
    '2.4.49',
    { title: 'Apache2 Debian Default Page', server: 'Apache/2.4.49 (Debian)' },
  ],
  [443, 'http', 'nginx', '1.25.3', { title: 'Example Corp', server: 'nginx/1.25.3' }],
  [8080, 'http', 'Apache Tomcat', '9.0.30', { title: 'Apache Tomcat/9.0.30', server: undefined }],
  [3306, 'mysql', 'MySQL', '5.7.33'],
  [5432, 'postgresql', 'PostgreSQL DB', '12.0 - 12.4'],
  [6379, 'redis', 'Redis key-value store', '6.0.9'],
  [9200, 'elasticsearch', 'Elasticsearch REST API', '7.10.2'],
  [11211, 'memcached', 'Memcached', '1.6.9'],
  [27017, 'mongodb', 'MongoDB', '4.4.6'],
  [3389, 'ms-wbt-server', 'Microsoft Terminal Services', undefined],
  [445, 'microsoft-ds', 'Microsoft Windows Server 2016 microsoft-ds', undefined],
  [873, 'rsync', undefined, undefined],
  [1883, 'mqtt', undefined, undefined],
  [25, 'smtp', 'Postfix smtpd', undefined],
  [53, 'domain', 'ISC BIND', '9.16.1'],
];

const NETWORKS = ['203.0.113', '198.51.100'];
const hosts = [];
for (const net of NETWORKS) {
  for (let i = 0; i < 24; i++) {
    const octet = 10 + i * 9 + Math.floor(random() * 8);
    const count = 1 + Math.floor(random() * 4);
    const ports = new Map();
    while (ports.size < count) {
      const s = pick(SERVICES);
      if (!ports.has(s[0])) ports.set(s[0], s);
    }
    hosts.push({ ip: `${net}.${octet}`, ports: [...ports.values()].sort((a, b) => a[0] - b[0]) });
  }
}

const xml = (text) =>
  String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
const START = 1795516200; // 2026-11-24 09:50:00 UTC
const portList = [...new Set(SERVICES.map((s) => s[0]))].sort((a, b) => a - b).join(',');
const args = `nmap -sT -sV -Pn -p ${portList} -oX example-corp.nmap.xml 203.0.113.0/24 198.51.100.0/24`;
const out = [];
out.push('<?xml version="1.0" encoding="UTF-8"?>');
out.push('<!DOCTYPE nmaprun>');
out.push(
  `<!-- Example data for surfacescan (scripts/make-example-scan.mjs): documentation addresses only. -->`,
);
out.push(
  `<nmaprun scanner="nmap" args="${xml(args)}" start="${START}" startstr="Tue Nov 24 09:50:00 2026" version="7.93" xmloutputversion="1.05">`,
);
out.push(
  `<scaninfo type="connect" protocol="tcp" numservices="${portList.split(',').length}" services="${portList}"/>`,
);
let t = START;
for (const host of hosts) {
  t += 3;
  out.push(
    `<host starttime="${t}" endtime="${t + 2}"><status state="up" reason="user-set" reason_ttl="0"/>`,
  );
  out.push(`<address addr="${host.ip}" addrtype="ipv4"/>`);
  out.push('<hostnames>');
  out.push(
    `<hostname name="host-${host.ip.split('.').slice(2).join('-')}.example.com" type="PTR"/>`,
  );
  out.push('</hostnames>');
  out.push('<ports>');
  for (const [port, name, product, version, http] of host.ports) {
    const attrs = [`name="${name}"`];
    if (product !== undefined) attrs.push(`product="${xml(product)}"`);
    if (version !== undefined) attrs.push(`version="${xml(version)}"`);
    attrs.push(product === undefined ? 'method="table" conf="3"' : 'method="probed" conf="10"');
    let scripts = '';
    if (http !== undefined) {
      scripts += `<script id="http-title" output="${xml(http.title)}"><elem key="title">${xml(http.title)}</elem></script>`;
      if (http.server !== undefined)
        scripts += `<script id="http-server-header" output="${xml(http.server)}"><elem>${xml(http.server)}</elem></script>`;
    }
    out.push(
      `<port protocol="tcp" portid="${port}"><state state="open" reason="syn-ack" reason_ttl="0"/><service ${attrs.join(' ')}/>${scripts}</port>`,
    );
  }
  out.push('</ports>');
  out.push('</host>');
}
out.push(
  `<runstats><finished time="${t + 5}" timestr="Tue Nov 24 09:52:30 2026" summary="Nmap done: 512 IP addresses (${hosts.length} hosts up) scanned" elapsed="150.00" exit="success"/><hosts up="${hosts.length}" down="${512 - hosts.length}" total="512"/></runstats>`,
);
out.push('</nmaprun>');
writeFileSync(new URL('../examples/example-corp.nmap.xml', import.meta.url), `${out.join('\n')}\n`);
console.log(
  `examples/example-corp.nmap.xml: ${hosts.length} hosts, ${hosts.reduce((n, h) => n + h.ports.length, 0)} open ports`,
);
