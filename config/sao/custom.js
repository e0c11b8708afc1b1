/* This file is part of lk.  The COPYRIGHT file at the top level of
this repository contains the full copyright notices and license terms. */
/* sao's customization hook, served as /admin/custom.js by config/wsgi.py.
- lk is Russian first: before sign-in (and for a user without a language)
  sao speaks Russian rather than the browser's language; its catalogue is
  lk's config/sao/locale/ru.json. The user's language applies once signed in.
- With [database] list = False, sao's login dialog asks for the database
  instead of taking the one of its URL (/admin/#lk_demo): fill it in. */
(function() {
    'use strict';
    var setlang = Sao.i18n.setlang;
    Sao.i18n.setlang = function(lang) {
        return setlang.call(this, lang || 'ru');
    };
    function fill() {
        var database = window.location.hash.replace(/^#!?/, '')
            .split('/', 1)[0];
        var input = document.querySelector('.login-dialog input#database');
        if (database && input && !input.value) {
            input.value = decodeURIComponent(database);
        }
    }
    new MutationObserver(fill).observe(
        document.documentElement, {childList: true, subtree: true});
})();
