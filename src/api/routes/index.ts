import type { AnyRoute } from '../route.js';
import { auditRoutes } from './audit.js';
import { batchRoutes } from './batches.js';
import { configurationRoutes } from './configuration.js';
import { consentRoutes } from './consents.js';
import { contactRoutes } from './contacts.js';
import { erasureRoutes } from './erasure-requests.js';
import { eventRoutes } from './events.js';
import { subscriberRoutes } from './subscribers.js';
import { systemRoutes } from './system.js';

/** The route table: every route of the API, declared once (DESIGN.md "Interfaces"). */
export const ROUTES: readonly AnyRoute[] = [
  ...systemRoutes,
  ...eventRoutes,
  ...contactRoutes,
  ...batchRoutes,
  ...consentRoutes,
  ...erasureRoutes,
  ...configurationRoutes,
  ...subscriberRoutes,
  ...auditRoutes,
];
