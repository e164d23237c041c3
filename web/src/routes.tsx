/**
 * The pages of the web app. A page is one entry: a path pattern (hash routes, router.ts), the
 * component, and a `nav` label when it belongs in the top navigation.
 */
import type { VNode } from 'preact';
import { AccountPage } from './pages/account.js';
import { AppPage, AppStorePage } from './pages/apps.js';
import { BlockPage } from './pages/block.js';
import { ContentIndexPage, ContentPage, searchFromHash } from './pages/content.js';
import { DashboardPage } from './pages/dashboard.js';
import { MessengerPage } from './pages/messenger.js';
import { NameIndexPage, NamePage } from './pages/name.js';
import { TxPage } from './pages/tx.js';
import { ValidatorsPage } from './pages/validators.js';
import type { Params } from './router.js';

export interface Route {
  pattern: string;
  /** Label in the top navigation (pages reached only by links have none). */
  nav?: string;
  /** The nav entry this page is under (highlighted while it is open). */
  section?: string;
  title: (p: Params) => string;
  render: (p: Params) => VNode;
}

export const routes: Route[] = [
  { pattern: '/', nav: 'Explorer', section: '/', title: () => 'Explorer', render: () => <DashboardPage /> },
  {
    pattern: '/block/:id',
    section: '/',
    title: (p) => `Block ${p.id}`,
    render: (p) => <BlockPage id={p.id} />,
  },
  { pattern: '/tx/:hash', section: '/', title: () => 'Transaction', render: (p) => <TxPage hash={p.hash} /> },
  {
    pattern: '/account/:address',
    section: '/',
    title: () => 'Account',
    render: (p) => <AccountPage address={p.address} />,
  },
  {
    pattern: '/validators',
    nav: 'Validators',
    section: '/validators',
    title: () => 'Validators',
    render: () => <ValidatorsPage />,
  },
  {
    pattern: '/content',
    nav: 'Content',
    section: '/content',
    title: () => 'Content',
    render: () => <ContentIndexPage search={searchFromHash(location.hash)} />,
  },
  {
    pattern: '/content/:id',
    section: '/content',
    title: () => 'Content',
    render: (p) => <ContentPage id={p.id} />,
  },
  { pattern: '/name', nav: 'Names', section: '/name', title: () => 'Names', render: () => <NameIndexPage /> },
  {
    pattern: '/name/:name',
    section: '/name',
    title: (p) => `Name ${p.name}`,
    render: (p) => <NamePage name={p.name} />,
  },
  {
    pattern: '/messages',
    nav: 'Messages',
    section: '/messages',
    title: () => 'Messages',
    render: () => <MessengerPage />,
  },
  {
    pattern: '/messages/:peer',
    section: '/messages',
    title: (p) => `Messages with ${p.peer}`,
    render: (p) => <MessengerPage peer={p.peer} />,
  },
  {
    pattern: '/apps',
    nav: 'Apps',
    section: '/apps',
    title: () => 'App store',
    render: () => <AppStorePage />,
  },
  {
    pattern: '/app/:id',
    section: '/apps',
    title: (p) => `App ${p.id.slice(0, 10)}`,
    render: (p) => <AppPage id={p.id} />,
  },
];
