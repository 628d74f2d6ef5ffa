;;; tiny-agent.el --- WGSL with the Tiny Agent language server, through eglot  -*- lexical-binding: t; -*-

;; Works with the eglot built into Emacs 29+ and with eglot 1.9+ from GNU ELPA (Debian 12:
;; apt-get install elpa-eglot). Load it from your init file:
;;
;;   (load "~/.emacs.d/tiny-agent.el")
;;   (setq tiny-agent-server-command '("~/src/tiny-agent-trainer/.venv/bin/tiny-agent-trainer" "serve"))
;;   (setq tiny-agent-settings '(:modelPath "dummy" :debounceMs 150))

;;; Code:

(require 'eglot)

(defgroup tiny-agent nil
  "WGSL shaders with the Tiny Agent language server."
  :group 'languages)

(defcustom tiny-agent-server-command '("tiny-agent-trainer" "serve")
  "How to start the language server: the program and its arguments."
  :type '(repeat string))

(defcustom tiny-agent-settings '(:completions (:waitMs 1000))
  "The server's settings, sent as initializationOptions.
Keys as in VS Code without the tinyAgent prefix, for example
  (:modelPath \"dummy\" :validateOn \"save\" :completions (:enabled :json-false))."
  :type 'plist)

;; A small major mode, unless one is installed already (wgsl-mode from MELPA works too).
(unless (fboundp 'wgsl-mode)
  (defvar wgsl-mode-syntax-table
    (let ((table (make-syntax-table)))
      (modify-syntax-entry ?/ ". 124b" table)
      (modify-syntax-entry ?* ". 23n" table)
      (modify-syntax-entry ?\n "> b" table)
      (modify-syntax-entry ?_ "_" table)
      (modify-syntax-entry ?@ "'" table)
      table)
    "Syntax table for `wgsl-mode': // and nested /* */ comments.")
  (defconst wgsl-font-lock-keywords
    `((,(regexp-opt '("fn" "let" "var" "const" "override" "struct" "alias" "return" "if" "else"
                      "for" "while" "loop" "break" "continue" "continuing" "switch" "case"
                      "default" "discard" "enable" "requires" "diagnostic" "const_assert")
                    'symbols)
       . font-lock-keyword-face)
      ("@[A-Za-z_][A-Za-z0-9_]*" . font-lock-preprocessor-face)
      (,(concat "\\_<\\(?:[iuf]32\\|f16\\|bool\\|vec[234][iufh]?\\|mat[234]x[234][fh]?"
                "\\|array\\|atomic\\|ptr\\|sampler\\(?:_comparison\\)?\\|texture_[a-z0-9_]+\\)\\_>")
       . font-lock-type-face)
      ("\\_<fn\\s-+\\([A-Za-z_][A-Za-z0-9_]*\\)" 1 font-lock-function-name-face))
    "Highlighting for `wgsl-mode'; the server's diagnostics do the rest.")
  (define-derived-mode wgsl-mode prog-mode "WGSL"
    "Major mode for the WebGPU Shading Language."
    :syntax-table wgsl-mode-syntax-table
    (setq-local comment-start "// ")
    (setq-local comment-end "")
    (setq-local comment-start-skip "//+\\s-*")
    (setq-local indent-tabs-mode nil)
    (setq-local font-lock-defaults '(wgsl-font-lock-keywords))))

(add-to-list 'auto-mode-alist '("\\.wgsl\\'" . wgsl-mode))

(add-to-list 'eglot-server-programs
             `(wgsl-mode . ,(lambda (&rest _)
                              (append tiny-agent-server-command
                                      (list :initializationOptions tiny-agent-settings)))))

(add-hook 'wgsl-mode-hook #'eglot-ensure)

(defun tiny-agent--execute (command &rest arguments)
  "Run the server's COMMAND with ARGUMENTS; return its result."
  (let ((server (or (eglot-current-server)
                    (user-error "No Tiny Agent server in this buffer: M-x eglot"))))
    (jsonrpc-request server :workspace/executeCommand
                     `(:command ,command :arguments ,(vconcat arguments)))))

(defun tiny-agent-generate ()
  "Write WGSL for the // comment on the current line, below it."
  (interactive)
  (let* ((eglot-confirm-server-initiated-edits nil) ; you asked for this edit
         (result (tiny-agent--execute
                  "tinyAgent.generate"
                  `(:uri ,(funcall (if (fboundp 'eglot-path-to-uri)
                                       'eglot-path-to-uri
                                     'eglot--path-to-uri)
                                   (buffer-file-name))
                    :line ,(1- (line-number-at-pos))))))
    (when (plist-get result :error)
      (message "Tiny Agent: %s" (plist-get result :error)))))

(defun tiny-agent-train (config &optional epochs with-workspace)
  "Train with CONFIG (a TOML file); EPOCHS overrides its count.
With a prefix argument (WITH-WORKSPACE) the project's own shaders
are added to the training data."
  (interactive
   (list (read-file-name "Training config: " nil "config/wgsl_generation.toml" t)
         (let ((n (read-string "Epochs (empty: the config's): ")))
           (unless (string-empty-p n) (string-to-number n)))
         current-prefix-arg))
  (let ((result (tiny-agent--execute
                 "tinyAgent.train"
                 `(:config ,(expand-file-name config)
                   ,@(when epochs `(:epochs ,epochs))
                   ,@(when with-workspace '(:workspace t))))))
    (if (eq (plist-get result :started) t)
        (message "Tiny Agent: training started (progress in the mode line)")
      (message "Tiny Agent: %s" (plist-get result :reason)))))

(defun tiny-agent-stop-training ()
  "Stop the running training; a checkpoint is kept."
  (interactive)
  (tiny-agent--execute "tinyAgent.stopTraining"))

(defun tiny-agent-validate-workspace ()
  "Check every *.wgsl file in the project with naga."
  (interactive)
  (tiny-agent--execute "tinyAgent.validateWorkspace"))

(defun tiny-agent-model-info ()
  "Show the model's path, size, state and metrics."
  (interactive)
  (message "%S" (tiny-agent--execute "tinyAgent.modelInfo")))

(provide 'tiny-agent)
;;; tiny-agent.el ends here
