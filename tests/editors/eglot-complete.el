;;; eglot-complete.el --- ask codestral-ls for a completion through Eglot, in `emacs --batch'  -*- lexical-binding: t -*-

;; Driven by tests/test_editors_emacs.py through environment variables:
;;   CODESTRAL_TEST_CONFIG  elisp file with the user configuration (the snippet of docs/editors.md)
;;   CODESTRAL_TEST_FILE    the source file to open
;;   CODESTRAL_TEST_HOLE    text just before the cursor: point goes to the end of its first match
;;   CODESTRAL_TEST_OUT     where to write the JSON report
;;   CODESTRAL_TEST_TIMEOUT seconds to wait for the item (the model may still be loading)
;; The report holds what a user would see: the candidates `completion-at-point' offers, the
;; codestral item, and the buffer after `completion-at-point' inserted it.

(require 'eglot)
(require 'json)

(defvar codestral-test--report nil)

(defun codestral-test--env (name)
  (or (getenv name) (error "%s is not set" name)))

(defun codestral-test--finish (ok)
  (with-temp-file (codestral-test--env "CODESTRAL_TEST_OUT")
    (insert (json-encode (cons (cons 'ok (if ok t :json-false)) codestral-test--report))))
  (kill-emacs (if ok 0 1)))

(defun codestral-test--note (key value)
  (push (cons key value) codestral-test--report))

(defun codestral-test--codestral-p (candidate)
  (let ((item (get-text-property 0 'eglot--lsp-item candidate)))
    (equal (plist-get item :detail) "codestral-ls")))

(defun codestral-test--candidates ()
  "The candidates the completion-at-point functions give at point, as the UI would list them."
  (let ((capf (run-hook-wrapped 'completion-at-point-functions
                                (lambda (fn) (funcall fn)))))
    (when capf
      (pcase-let ((`(,start ,end ,table . ,_) capf))
        (let ((typed (buffer-substring-no-properties start end)))
          (codestral-test--note 'typed typed)
          (completion-all-completions typed table nil (length typed)
                                      (completion-metadata typed table nil)))))))

(defvar codestral-test--timeouts 0
  "Requests that Eglot gave up on (`jsonrpc-default-request-timeout', 10 s).")

(defun codestral-test--wait-for-item (timeout)
  (let ((deadline (+ (float-time) timeout))
        found)
    (while (and (not found) (< (float-time) deadline))
      (let ((candidates
             ;; On a busy machine the first generation can outlast Eglot's 10 s: ask again, as
             ;; a user would (the server keeps the finished suggestion for the same place).
             (condition-case nil
                 (codestral-test--candidates)
               (jsonrpc-error
                (setq codestral-test--timeouts (1+ codestral-test--timeouts))
                ;; A new request would supersede the generation still running: let it finish.
                (sleep-for 20)
                nil))))
        ;; `completion-all-completions' ends the list with the base size: drop it.
        (when (consp candidates) (setcdr (last candidates) nil))
        (setq found (seq-find #'codestral-test--codestral-p candidates))
        (unless found (accept-process-output nil 0.5))))
    found))

(defun codestral-test--apply-edit (text edit)
  "TEXT with the LSP TextEdit EDIT applied, computed apart from the buffer under test.
Columns are counted in the position encoding Eglot negotiated for the buffer under test."
  (let ((move-to-linepos eglot-move-to-linepos-function))
    (with-temp-buffer
      (insert text)
      (setq-local eglot-move-to-linepos-function move-to-linepos)
      (pcase-let ((`(,beg . ,end) (eglot-range-region (plist-get edit :range))))
        (delete-region beg end)
        (goto-char beg)
        (insert (plist-get edit :newText)))
      (buffer-string))))

(defun codestral-test-run ()
  (setq native-comp-jit-compilation nil)
  (load (codestral-test--env "CODESTRAL_TEST_CONFIG") nil t)
  (find-file (codestral-test--env "CODESTRAL_TEST_FILE"))
  ;; `eglot-ensure' (from the configuration's hook) connects after the next command; batch mode
  ;; runs no command loop, so run that hook once as the command loop would.
  (run-hooks 'post-command-hook)
  ;; Eglot waits `eglot-sync-connect' seconds, then goes on connecting in the background.
  (let ((deadline (+ (float-time) 60)))
    (while (and (not (eglot-current-server)) (< (float-time) deadline))
      (accept-process-output nil 0.2)))
  (unless (eglot-current-server) (error "Eglot did not connect"))
  (codestral-test--note 'server (format "%s" (eglot-project-nickname (eglot-current-server))))
  (goto-char (point-min))
  (search-forward (codestral-test--env "CODESTRAL_TEST_HOLE"))
  (let* ((before (buffer-substring-no-properties (point-min) (point-max)))
         (line (buffer-substring-no-properties (line-beginning-position) (line-end-position)))
         (start (float-time))
         (timeout (string-to-number (or (getenv "CODESTRAL_TEST_TIMEOUT") "120")))
         (candidate (codestral-test--wait-for-item timeout)))
    (codestral-test--note 'line line)
    (codestral-test--note 'encoding (format "%s" eglot-move-to-linepos-function))
    (codestral-test--note 'wait_s (- (float-time) start))
    (codestral-test--note 'timeouts codestral-test--timeouts)
    (unless candidate (codestral-test--finish nil))
    (let* ((item (get-text-property 0 'eglot--lsp-item candidate))
           (expected (codestral-test--apply-edit before (plist-get item :textEdit))))
      (codestral-test--note 'label (plist-get item :label))
      (codestral-test--note 'filter_text (plist-get item :filterText))
      (codestral-test--note 'new_text (plist-get (plist-get item :textEdit) :newText))
      (let ((doc (plist-get item :documentation)))
        (codestral-test--note 'documentation (if (stringp doc) doc (plist-get doc :value))))
      ;; Eglot declares markdown documentation only where it can render it (markdown-mode).
      (codestral-test--note 'markdown
                            (if (seq-contains-p (eglot--accepted-formats) "markdown") t :json-false))
      ;; What the user does: M-x completion-at-point (C-M-i). The codestral item is the only
      ;; candidate, so Emacs inserts it and Eglot's exit function applies its textEdit.
      (call-interactively #'completion-at-point)
      (let ((after (buffer-substring-no-properties (point-min) (point-max))))
        (codestral-test--note 'expected expected)
        (codestral-test--note 'after after)
        (codestral-test--finish (equal after expected))))))

(condition-case err
    (codestral-test-run)
  (error
   (codestral-test--note 'error (error-message-string err))
   (codestral-test--finish nil)))

;;; eglot-complete.el ends here
