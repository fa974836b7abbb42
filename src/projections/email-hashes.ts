import type { BlindIndex } from '../crypto/blind-index.js';
import type { KeyStore } from '../crypto/key-store.js';
import { EMAIL_FIELD, sealsEmail } from './fold-batch.js';
import type { EmailHashes } from './runner.js';
import { openSealed } from '../crypto/open-sealed.js';

/**
 * The blind-index hash of each e-mail a batch sets (registration, rectification), opened in memory
 * and hashed at once: the address itself goes no further. An erased e-mail gives no entry.
 */
export function emailHashes(keys: KeyStore, index: BlindIndex): EmailHashes {
  return async (events) => {
    const hashes = new Map<string, string>();
    const withEmail = events.filter(sealsEmail);
    await keys.prefetch(withEmail.map((event) => event.sealed!.keyId));
    for (const event of withEmail) {
      const opened = await openSealed(event.sealed!, event.id, keys);
      const email = 'personal' in opened ? opened.personal[EMAIL_FIELD] : undefined;
      if (typeof email === 'string') hashes.set(event.id, index.email(email));
    }
    return hashes;
  };
}
