/**
 * Device references in the browser (src/calibrate/device-reference.ts says what they are):
 * one localStorage entry per origin, the same document a Node references file holds. They
 * are a setting of this browser on this machine, not a result: they never travel with an
 * export (a profile imported from another machine never sets or moves this machine's
 * reference), and clearing History leaves them.
 */
import {
  documentStore,
  emptyDeviceReferences,
  parseDeviceReferences,
  type DeviceReferenceStore,
} from '../calibrate/device-reference.ts';

export const DEVICE_REFERENCES_KEY = 'kvsched.device-references';

/**
 * The browser's references store. An unreadable entry (another program's, a hand edit) is
 * refused with a one-line error and left as it is, unless `replaceUnreadable` (the Calibrate
 * view's "new device reference", which the error names): then it starts empty.
 */
export function browserDeviceReferences(
  storage: Storage = localStorage,
  replaceUnreadable = false,
): DeviceReferenceStore {
  const where = `this browser's localStorage["${DEVICE_REFERENCES_KEY}"]`;
  const text = storage.getItem(DEVICE_REFERENCES_KEY);
  let doc = emptyDeviceReferences();
  if (text !== null)
    try {
      doc = parseDeviceReferences(text, where);
    } catch (e) {
      if (!replaceUnreadable)
        throw new Error(`${(e as Error).message}; tick "New device reference" to replace it`, { cause: e });
    }
  return documentStore(where, doc, (next) => {
    try {
      storage.setItem(DEVICE_REFERENCES_KEY, JSON.stringify(next));
    } catch (e) {
      const quota = e instanceof DOMException && e.name === 'QuotaExceededError';
      throw new Error(quota ? "the browser's storage quota for this site is full" : (e as Error).message, {
        cause: e,
      });
    }
    return Promise.resolve();
  });
}
