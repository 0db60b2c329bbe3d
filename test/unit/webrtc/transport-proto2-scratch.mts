import { WebRtcServer } from '../../../src/protocols/webrtc/transport/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
console.log('start', process.getActiveResourcesInfo());
const server = new WebRtcServer({ host: '127.0.0.1', udpPort: 0, log: silentLogger() });
await server.listen();
console.log('listening', process.getActiveResourcesInfo());
await server.close();
console.log('closed', process.getActiveResourcesInfo());
setTimeout(() => console.log('later', process.getActiveResourcesInfo()), 100);
