// Simplified Chinese: every page's words (keys are the English the code shows; `{name}`
// is a value put in). Each file is a JSON object after `export default`, so that
// tests/unit/test_portal_i18n.py can read it and check that every word the code
// translates has its Chinese here.

import accounts from "./accounts.js";
import audit from "./audit.js";
import blacklist from "./blacklist.js";
import channels from "./channels.js";
import commonTemplates from "./common-templates.js";
import expenses from "./expenses.js";
import frame from "./frame.js";
import log from "./log.js";
import missionDetail from "./mission-detail.js";
import missionForm from "./mission-form.js";
import missions from "./missions.js";
import orders from "./orders.js";
import overview from "./overview.js";
import packages from "./packages.js";
import platformAudit from "./platform-audit.js";
import platformBlacklist from "./platform-blacklist.js";
import statistics from "./statistics.js";
import templates from "./templates.js";
import tenants from "./tenants.js";
import unmatchedReceipts from "./unmatched-receipts.js";

export default {
  ...frame,
  ...overview,
  ...missions,
  ...missionForm,
  ...missionDetail,
  ...templates,
  ...orders,
  ...blacklist,
  ...statistics,
  ...log,
  ...expenses,
  ...audit,
  ...tenants,
  ...accounts,
  ...packages,
  ...channels,
  ...commonTemplates,
  ...platformBlacklist,
  ...unmatchedReceipts,
  ...platformAudit,
};
