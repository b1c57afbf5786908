// The dashboard's side navigation, in the order a merchant works through it.
import type { IconType } from 'react-icons';
import {
  LuBookOpen,
  LuBot,
  LuInbox,
  LuLayoutDashboard,
  LuPackage,
  LuSettings,
  LuShoppingBag,
  LuStore,
  LuTags,
  LuUndo2,
} from 'react-icons/lu';
import { paths } from '@/config/paths';

export type NavItem = { key: string; href: string; icon: IconType; end?: boolean };

export const navItems: NavItem[] = [
  { key: 'overview', href: paths.overview.getHref(), icon: LuLayoutDashboard, end: true },
  { key: 'inbox', href: paths.inbox.getHref(), icon: LuInbox },
  { key: 'orders', href: paths.orders.getHref(), icon: LuShoppingBag },
  { key: 'returns', href: paths.returns.getHref(), icon: LuUndo2 },
  { key: 'catalog', href: paths.catalog.getHref(), icon: LuPackage },
  { key: 'categories', href: paths.categories.getHref(), icon: LuTags },
  { key: 'knowledge', href: paths.knowledge.getHref(), icon: LuBookOpen },
  { key: 'profile', href: paths.profile.getHref(), icon: LuStore },
  { key: 'instructions', href: paths.instructions.getHref(), icon: LuBot },
  { key: 'settings', href: paths.settings.getHref(), icon: LuSettings },
];
