// The example shop's one piece of script: "Checkout" changes the page the
// way a single-page shop does, with history.pushState and a new title, so
// that the chat's visitor context can be seen to follow it.

const TITLE = document.title;

function showPage(page) {
  document.title = page === 'checkout' ? 'Checkout - Harbor & Pine' : TITLE;
  document.body.dataset.page = page || 'home';
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-page]');
  if (link === null) return;
  event.preventDefault();
  history.pushState({ page: link.dataset.page }, '', link.href);
  showPage(link.dataset.page);
});

window.addEventListener('popstate', () => {
  showPage(new URLSearchParams(window.location.search).get('page'));
});

showPage(new URLSearchParams(window.location.search).get('page'));
