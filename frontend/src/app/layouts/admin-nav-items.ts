// The admin console's navigation (its own shell, separate from the merchant dashboard).
import type { IconType } from 'react-icons';
import { LuBell, LuCoins, LuKeyRound, LuMessagesSquare, LuStore } from 'react-icons/lu';
import { paths } from '@/config/paths';

export type AdminNavItem = { key: string; href: string; icon: IconType; end?: boolean };

export const adminNavItems: AdminNavItem[] = [
  { key: 'tenants', href: paths.adminTenants.getHref(), icon: LuStore, end: true },
  { key: 'licences', href: paths.adminLicences.getHref(), icon: LuKeyRound },
  { key: 'conversations', href: paths.adminConversations.getHref(), icon: LuMessagesSquare },
  { key: 'costs', href: paths.adminCosts.getHref(), icon: LuCoins },
  { key: 'alerts', href: paths.adminAlerts.getHref(), icon: LuBell },
];
