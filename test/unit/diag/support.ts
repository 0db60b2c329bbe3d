/** A registry with a `fake:` scheme whose drivers the test controls, and a stream on it. */
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { FakeDriver, H264, media, OPUS } from '../../helpers/fakes.ts';

export function fakeRegistry(): { registry: StreamRegistry; drivers: Map<string, FakeDriver> } {
  const drivers = new Map<string, FakeDriver>();
  const schemes = new SchemeTable();
  schemes.register('fake', (url) => {
    const driver = new FakeDriver([media(H264), media(OPUS)]);
    drivers.set(url, driver);
    return driver;
  });
  return { registry: new StreamRegistry(schemes, { idleTimeoutMs: 20 }), drivers };
}
