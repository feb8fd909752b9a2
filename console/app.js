// The console's shell: hash routes (#/topics/x), so every URL stays relative to the page and the
// console works behind a path prefix; one page at a time, each returning its cleanup (timers,
// WebSockets) for when the route changes.
import { configsPage } from './configs.js';
import { groupPage, groupsPage } from './groups.js';
import { h, setToken, token, whenUnauthenticated } from './lib.js';
import { overviewPage } from './overview.js';
import { topicPage, topicsPage } from './topics.js';

const main = document.getElementById('main');
let cleanup = () => {};

function route() {
  const parts = location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [section, id] = parts;
  if (!section) return { page: overviewPage, nav: '' };
  if (section === 'topics') return id === undefined ? { page: topicsPage, nav: 'topics' } : { page: (m) => topicPage(m, id), nav: 'topics' };
  if (section === 'groups') return id === undefined ? { page: groupsPage, nav: 'groups' } : { page: (m) => groupPage(m, id), nav: 'groups' };
  if (section === 'configs') return { page: configsPage, nav: 'configs' };
  return { page: notFound, nav: undefined };
}

function notFound(m) {
  m.append(h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the overview'), '.'));
  return () => {};
}

function show() {
  cleanup();
  main.replaceChildren();
  const { page, nav } = route();
  for (const a of document.querySelectorAll('header nav a')) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  cleanup = page(main) ?? (() => {});
  document.getElementById('logout').hidden = !token();
  // Keyboard and screen-reader users land on the new page's heading, not at the old link.
  const heading = main.querySelector('h1');
  document.title = `${heading?.textContent ?? 'Console'} · Brook`;
  if (heading && show.navigated) heading.focus();
  show.navigated = true;
}
show.navigated = false;

// ws.auth=token: the API answers 401 until a token is given; it is kept for this tab only.
const login = document.getElementById('login');
const loginForm = login.querySelector('form');
const loginMessage = document.getElementById('login-message');
whenUnauthenticated((why) => {
  if (login.open) return;
  loginMessage.textContent = token() ? `The token was refused: ${why}` : 'This broker requires a token (ws.auth=token).';
  login.showModal();
});
loginForm.addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(new FormData(loginForm).get('token')?.toString().trim());
  loginForm.reset();
  login.close();
  show();
});
document.getElementById('logout').addEventListener('click', () => {
  setToken(undefined);
  show();
});

window.addEventListener('hashchange', show);
show();
