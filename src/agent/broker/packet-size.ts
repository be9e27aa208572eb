// Finds MQTT packet boundaries in a byte stream (fixed header: one type byte, then the remaining
// length as 1-4 bytes of 7 bits each) so that a packet announcing more than the limit is refused
// after its first few bytes, before anyone buffers its body.

/** Room for a topic (up to 65535 bytes + 2), a packet id and MQTT 5 properties beside the payload. */
export const PACKET_OVERHEAD_BYTES = 65_536 + 1_024;

export class PacketSizeMeter {
  /** 0: at a type byte; 1: inside the length; 2: inside a body. */
  private state = 0;
  private length = 0;
  private shift = 0;
  private bodyLeft = 0;

  constructor(private readonly maxRemainingLength: number) {}

  /**
   * Follows `chunk`; returns the remaining length of a packet over the limit (or of a malformed
   * length field, as Infinity), or -1 while everything is within it.
   */
  feed(chunk: Uint8Array): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 2) {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        if (this.bodyLeft === 0) this.state = 0;
        continue;
      }
      const byte = chunk[i++];
      if (this.state === 0) {
        this.state = 1;
        this.length = 0;
        this.shift = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 2 ** this.shift;
      this.shift += 7;
      if (byte & 0x80) {
        if (this.shift >= 28) return Infinity;
        continue;
      }
      if (this.length > this.maxRemainingLength) return this.length;
      this.bodyLeft = this.length;
      this.state = this.length ? 2 : 0;
    }
    return -1;
  }
}
