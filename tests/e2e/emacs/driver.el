;;; driver.el --- drives Emacs + eglot like a user, reports what it sees  -*- lexical-binding: t; -*-

;; Loaded by tests/e2e/test_emacs.py after docs/editors/emacs/tiny-agent.el, in batch mode.
;; Reads the shader path and the prompt from the environment; prints one JSON object per
;; observation, on lines that start with "OBSERVE ", for the test to assert on.

(require 'json)
(require 'seq)
(require 'cl-lib)

(defvar driver-published-version nil
  "The document version of the last publishDiagnostics the server sent.")

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql textDocument/publishDiagnostics)) &key version &allow-other-keys)
  (setq driver-published-version version))

(defun driver-validated-p ()
  "The server has published diagnostics for the buffer's latest version."
  (and driver-published-version (= driver-published-version eglot--versioned-identifier)))

(defun driver-observe (step &rest plist)
  (princ (format "OBSERVE %s\n" (json-encode (append (list :step step) plist)))))

(defun driver-idle ()
  "What Emacs does when the user pauses: run the idle timers (batch mode never idles)."
  (dolist (timer (copy-sequence timer-idle-list))
    (timer-event-handler timer)))

(defun driver-wait (predicate seconds)
  "Let Emacs run until PREDICATE is non-nil or SECONDS pass; return its value."
  (let ((deadline (+ (float-time) seconds))
        value)
    (while (and (not (setq value (funcall predicate))) (< (float-time) deadline))
      (run-hooks 'post-command-hook)
      (driver-idle)
      (accept-process-output nil 0.05))
    value))

(defun driver-diagnostics ()
  (mapcar (lambda (d)
            (let ((beg (flymake-diagnostic-beg d))
                  (end (flymake-diagnostic-end d)))
              (list :line (line-number-at-pos beg)
                    :col (save-excursion (goto-char beg) (current-column))
                    :end_col (save-excursion (goto-char end) (current-column))
                    :text (flymake-diagnostic-text d))))
          (flymake-diagnostics)))

(defun driver-complete ()
  "Completion at point until the generated item is ready; returns (CAPF LABELS GENERATED)."
  (let ((deadline (+ (float-time) 120))
        capf labels generated)
    (while (progn
             (setq capf (eglot-completion-at-point)
                   labels (all-completions "" (nth 2 capf))
                   generated (seq-find (lambda (c) (string-prefix-p "Tiny Agent: " c)) labels))
             (and (member generated '("Tiny Agent: model loading…" "Tiny Agent: generating…"))
                  (< (float-time) deadline)))
      (driver-wait (lambda () nil) 1))
    (list capf labels generated)))

(defun driver-dump-logs ()
  (dolist (buffer (buffer-list))
    (when (string-match-p "EGLOT.*\\(stderr\\|events\\)" (buffer-name buffer))
      (with-current-buffer buffer
        (princ (format "--- %s (end)\n%s\n" (buffer-name buffer)
                       (buffer-substring-no-properties (max (point-min) (- (point-max) 6000))
                                                       (point-max))))))))

(defun driver-run ()
  (let ((shader (getenv "DRIVER_SHADER"))
        (prompt (getenv "DRIVER_PROMPT")))
    (find-file shader)
    ;; eglot-ensure connects after the command that opened the file.
    (run-hooks 'post-command-hook)
    (driver-observe "opened" :mode (symbol-name major-mode)
                    :managed (and (driver-wait #'eglot-current-server 60) t))
    (driver-wait #'flymake-diagnostics 60)
    (driver-observe "diagnostics" :items (vconcat (driver-diagnostics)))

    ;; Fix the typo the way a user would: type the missing letter.
    (goto-char (point-min))
    (search-forward "weight)")
    (backward-char 1)
    (insert "s")
    (driver-observe "fixed" :cleared (and (driver-wait (lambda () (and (driver-validated-p)
                                                                       (null (flymake-diagnostics))))
                                                       30)
                                          t))

    ;; A comment at the end, then completion on the line below it.
    (goto-char (point-max))
    (insert "// " prompt "\n")
    (pcase-let* ((`(,capf ,labels ,generated) (driver-complete))
		 (exit (plist-get (nthcdr 3 capf) :exit-function))
		 (annotate (plist-get (nthcdr 3 capf) :annotation-function)))
      (driver-observe "completion" :labels (vconcat (seq-take labels 5))
                      :generated generated
                      :annotation (and generated annotate (funcall annotate generated)))
      (when generated
	;; What completion-at-point does on RET: insert the label, then the exit function.
	(insert generated)
	(funcall exit generated 'finished)))
    (driver-wait #'driver-validated-p 30)
    (driver-observe "accepted" :text (buffer-substring-no-properties (point-min) (point-max))
                    :validated (and (driver-validated-p) t)
                    :diagnostics (vconcat (driver-diagnostics)))))

(defun driver-generate-command ()
  "M-x tiny-agent-generate on a comment in a second file."
  (let ((file (expand-file-name "new.wgsl" (file-name-directory (getenv "DRIVER_SHADER")))))
    (with-temp-file file (insert "// " (getenv "DRIVER_PROMPT") "\n"))
    (find-file file)
    (run-hooks 'post-command-hook)
    (driver-wait #'eglot-current-server 30)
    (goto-char (point-min))
    (tiny-agent-generate)
    (driver-wait (lambda () (> (count-lines (point-min) (point-max)) 2)) 60)
    (driver-observe "generate" :text (buffer-substring-no-properties (point-min) (point-max)))))

(unwind-protect
    (condition-case err
        (progn (driver-run) (driver-generate-command))
      (error (driver-observe "error" :message (error-message-string err))))
  (driver-dump-logs))
