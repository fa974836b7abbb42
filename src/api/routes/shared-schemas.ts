import { Type } from '@sinclair/typebox';
import { TEXT_GUARD_CATEGORIES } from '../../domain/text-guard.js';
import { Instant, OneOf, OpaqueId } from '../../domain/schema-kit.js';
import { Nullable, Obj } from '../route.js';

/** Shared parts of the answers' schemas. */

export const ContactIdParams = Obj({ contactId: OpaqueId({ description: 'the contact id (opaque)' }) });

const Recommendations = Obj({ title: Type.String(), intro: Type.String(), points: Type.Array(Type.String()) });
/** The reference's remark recommendations, in English and French. */
export const RemarkRecommendations = Obj(
  { en: Recommendations, fr: Recommendations },
  { title: 'RemarkRecommendations' },
);

/** A text guard's finding: its category, the words that matched (as written), the advice. */
export const TextWarning = {
  category: OneOf(TEXT_GUARD_CATEGORIES),
  words: Type.Array(Type.String()),
  advice: Type.String(),
};

/** An event as read back: its seals opened, erased and withheld fields named (sealing.ts OpenedEvent). */
export const OpenedEvent = Obj(
  {
    id: Type.String(),
    type: Type.String(),
    stream: Type.String(),
    revision: Type.Integer({ minimum: 0 }),
    position: Type.Integer({ minimum: 0 }),
    occurredAt: Instant(),
    recordedAt: Instant(),
    organizationId: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'clear fields and opened personal fields' }),
    contactId: Nullable(Type.String()),
    personal: OneOf(['none', 'open', 'erased', 'withheld']),
    erased: Type.Array(Type.String(), { description: 'personal fields whose key was destroyed' }),
    erasedBy: Type.Optional(Nullable(Type.String({ description: 'the forgetting event that destroyed the key' }))),
    withheld: Type.Optional(Type.Array(Type.String(), { description: 'paths in data kept but not shown' })),
    withheldBecause: Type.Optional(OneOf(['request-evidence', 'another-person'])),
  },
  { title: 'OpenedEvent' },
);

/** A page of ids, the next cursor or null on the last page. */
export const Items = <T extends Parameters<typeof Type.Array>[0]>(item: T, title: string) =>
  Obj({ items: Type.Array(item) }, { title });
