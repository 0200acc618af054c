/**
 * `framewire/protocol`: the native wire protocol for other implementers —
 * header and message codecs, the incremental stream parser, clock sync, the
 * UDP fragmenter and reassembler. Pure: no sockets, no timers, no files.
 * See docs/protocol.md and docs/protocol-udp.md.
 *
 * (A plain re-export of the protocol modules; the protocol core's own entry
 * replaces it.)
 *
 * @packageDocumentation
 */
export * from './header.js';
export * from './messages.js';
export * from './parser.js';
export * from './clock-sync.js';
export * from './udp/fragmenter.js';
export * from './udp/reassembler.js';
