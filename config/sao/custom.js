/* This file is part of lk.  The COPYRIGHT file at the top level of
this repository contains the full copyright notices and license terms. */
/* sao's customization hook, served as /admin/custom.js by config/wsgi.py.
With [database] list = False, sao's login dialog asks for the database
instead of taking the one of its URL (/admin/#lk_demo): fill it in. */
(function() {
    'use strict';
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
