// Progressive enhancement only: every page works without this file.
'use strict';
if ('serviceWorker' in navigator) {
  window.addEventListener('load', function () {
    navigator.serviceWorker.register('/sw.js').catch(function () {});
  });
}

// Adding an account: show the access code or the request message, as the
// chosen organization's policy needs
document.addEventListener('DOMContentLoaded', function () {
  const select = document.querySelector('select[data-policy-switch]');
  if (!select) {
    return;
  }
  const code = document.getElementById('code').closest('.field');
  const message = document.getElementById('message').closest('.field');
  function update() {
    const option = select.options[select.selectedIndex];
    const policy = option ? option.getAttribute('data-policy') : null;
    code.hidden = policy === 'approval';
    message.hidden = policy === 'verification';
  }
  select.addEventListener('change', update);
  update();
});
