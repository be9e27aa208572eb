// Child-process viewer for the reaping test: connects to the WHEP endpoint in argv[2] (token in argv[3]),
// prints {"event":"connected"} once media can flow, then a frame count every second, until it is killed.
// Run: node --import ./ts-register.mjs whep-viewer.ts <endpoint> [token]

import { WhepClient } from '../../../../src/agent/preview/whep-client.js';

const [endpoint, token] = process.argv.slice(2);
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const client = await WhepClient.connect(endpoint!, { token });
if (client.status !== 201) {
  emit({ event: 'refused', status: client.status, body: client.body });
  process.exit(1);
}
const connected = () => client.connectionState === 'connected' && (emit({ event: 'connected', location: client.location }), true);
if (!connected()) client.onState(() => void connected());
setInterval(() => emit({ event: 'frames', frames: client.frames, decodable: client.decodableFrames }), 1000);
const stop = async () => {
  await client.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
