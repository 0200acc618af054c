import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { own, type Owned } from './procs.js';

/**
 * A minimal RTSP server for tests: ffmpeg encodes H.264 and sends RTP to a
 * UDP port here; RTSP clients (OPTIONS, DESCRIBE, SETUP with TCP
 * interleaving, PLAY) get those packets interleaved on their connection.
 * The RTP packets and the SDP are ffmpeg's own.
 */
export interface RtspServer {
  url: string;
  stop(): Promise<void>;
}

export async function startRtspServer(): Promise<RtspServer> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const dir = mkdtempSync(path.join(tmpdir(), 'fw-rtsp-'));
  const sdpFile = path.join(dir, 'stream.sdp');
  const ff: Owned = own(process.env.FFMPEG_PATH || 'ffmpeg', [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=15',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    '5',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'rtp',
    '-sdp_file',
    sdpFile,
    `rtp://127.0.0.1:${udp.address().port}`,
  ]);
  for (let i = 0; i < 100 && !existsSync(sdpFile); i++) await new Promise((r) => setTimeout(r, 30));
  const sdp = readFileSync(sdpFile, 'latin1')
    .replace(/^(m=video .*)$/m, '$1\r\na=control:trackID=0')
    .replace(/\r?\n/g, '\r\n');
  const players = new Set<net.Socket>();
  udp.on('message', (pkt) => {
    const head = Buffer.from([0x24, 0, pkt.length >> 8, pkt.length & 0xff]);
    for (const s of players) if (!s.destroyed && s.writableLength < 1 << 20) s.write(Buffer.concat([head, pkt]));
  });
  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => undefined);
    sock.on('close', () => players.delete(sock));
    sock.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const req = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const [method, uri] = (req.split('\r\n')[0] ?? '').split(' ');
        const cseq = /^CSeq:\s*(\d+)/im.exec(req)?.[1] ?? '0';
        const reply = (headers: string[], body = ''): void => {
          sock.write(
            `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${headers.map((h) => `${h}\r\n`).join('')}${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n${body}`,
          );
        };
        switch (method) {
          case 'OPTIONS':
            reply(['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER']);
            break;
          case 'DESCRIBE':
            reply(['Content-Type: application/sdp', `Content-Base: ${uri}/`], sdp);
            break;
          case 'SETUP':
            reply(['Transport: RTP/AVP/TCP;unicast;interleaved=0-1', 'Session: 4242;timeout=60']);
            break;
          case 'PLAY':
            reply(['Session: 4242']);
            players.add(sock);
            break;
          default:
            reply(['Session: 4242']);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `rtsp://127.0.0.1:${port}/live`,
    async stop() {
      for (const s of players) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      udp.close();
      await ff.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
