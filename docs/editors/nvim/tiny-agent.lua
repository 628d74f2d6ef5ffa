-- Tiny Agent Trainer for Neovim 0.7 and later: WGSL filetype, the language server, completion
-- of code from `//` comments, and commands. No plugin manager or nvim-lspconfig needed.
--
-- Install: copy this file to ~/.config/nvim/plugin/tiny-agent.lua (Neovim loads it at start-up),
-- or `:luafile` it from your init.lua. Options, all optional, go in `vim.g.tiny_agent` BEFORE
-- this file runs (plugin/ files run after init.lua, so init.lua is the place):
--
--   vim.g.tiny_agent = {
--     cmd = { "/path/to/.venv/bin/tiny-agent-trainer", "serve" }, -- default: found on PATH
--     settings = { modelPath = "dummy", debounceMs = 150 },      -- keys as in docs/editors/neovim.md
--     keymaps = true,                                             -- buffer-local maps below
--   }

local options = vim.g.tiny_agent or {}
local cmd = options.cmd or { "tiny-agent-trainer", "serve" }
local settings = vim.tbl_deep_extend("force", {
  -- Neovim's completion menu does not ask again when the server says the list is incomplete,
  -- so let it wait a little longer than VS Code does for the generated code.
  completions = { waitMs = 2000 },
}, options.settings or {})
local root_markers = options.root_markers or { ".git", "config", "pyproject.toml" }

-- Neovim 0.7 does not know *.wgsl (later releases do; setting it again is harmless).
vim.api.nvim_create_autocmd({ "BufNewFile", "BufRead" }, {
  group = vim.api.nvim_create_augroup("TinyAgentFiletype", { clear = true }),
  pattern = "*.wgsl",
  callback = function()
    vim.bo.filetype = "wgsl"
  end,
})

local M = { status = { model = "default", state = "unloaded" } }
_G.TinyAgent = M

--- The model's state as the server reports it, for your statusline:
--- `set statusline+=%{v:lua.TinyAgent.statusline()}`
function M.statusline()
  local s = M.status
  if s.state == "training" and s.progress then
    return string.format("%s: training %d%%", s.model, s.progress)
  end
  return string.format("%s: %s", s.model, s.state)
end

--- `key: value` lines for a table from the server, nested tables indented, keys sorted.
function M.info_lines(info, indent, lines)
  indent, lines = indent or "", lines or {}
  local keys = vim.tbl_keys(info)
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  for _, key in ipairs(keys) do
    local value = info[key]
    if type(value) == "table" and not vim.tbl_isempty(value) then
      table.insert(lines, indent .. tostring(key) .. ":")
      M.info_lines(value, indent .. "  ", lines)
    else
      if value == vim.NIL or (type(value) == "table" and vim.tbl_isempty(value)) then
        value = "-"
      end
      table.insert(lines, string.format("%s%s: %s", indent, tostring(key), tostring(value)))
    end
  end
  return lines
end

local function find_root(bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  local current = dir
  while true do
    for _, marker in ipairs(root_markers) do
      if vim.loop.fs_stat(current .. "/" .. marker) then
        return current
      end
    end
    local parent = vim.fn.fnamemodify(current, ":h")
    if parent == current then
      return dir
    end
    current = parent
  end
end

-- Vim's completion menu cannot insert text that spans lines: it would put the whole shader on
-- one line with NUL characters. So the menu shows the first line of such an item, and when the
-- item is accepted (CompleteDone) that line is replaced by the full text from the server.
local function lsp_item_of(completed)
  if type(completed) ~= "table" or type(completed.user_data) ~= "table" then
    return nil
  end
  local nvim = completed.user_data.nvim
  local item = type(nvim) == "table" and type(nvim.lsp) == "table" and nvim.lsp.completion_item
  return type(item) == "table" and item or nil
end

local function full_text(lsp_item)
  local edit = lsp_item.textEdit
  local text = type(edit) == "table" and edit.newText or lsp_item.insertText
  if type(text) == "string" and text:find("\n", 1, true) then
    return text
  end
  return nil
end

--- 'omnifunc' (<C-x><C-o>) for WGSL buffers: vim.lsp.omnifunc, plus multi-line items.
function M.omnifunc(findstart, base)
  if findstart == 0 then
    return {} -- the items arrive asynchronously through complete()
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local cursor = vim.api.nvim_win_get_cursor(0)
  local before = vim.api.nvim_get_current_line():sub(1, cursor[2])
  local start = vim.fn.match(before, "\\k*$")
  local prefix = before:sub(start + 1)
  local params = vim.lsp.util.make_position_params()
  vim.lsp.buf_request(bufnr, "textDocument/completion", params, function(err, result)
    if err or not result or vim.fn.mode() ~= "i" then
      return
    end
    local items = vim.lsp.util.text_document_completion_list_to_complete_items(result, prefix)
    for _, item in ipairs(items) do
      local lsp_item = lsp_item_of(item)
      if lsp_item and full_text(lsp_item) then
        item.word = item.word:match("^[^\n]*")
      elseif lsp_item and type(lsp_item.textEdit) == "table" and lsp_item.textEdit.newText == "" then
        item.word = prefix -- a status line ("model loading…"): choosing it changes nothing
      end
    end
    vim.fn.complete(start + 1, items)
  end)
  return -2
end

local function on_complete_done()
  local completed = vim.v.completed_item
  local lsp_item = lsp_item_of(completed)
  local text = lsp_item and full_text(lsp_item)
  if not text then
    return
  end
  local word = completed.word or ""
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local start = col - #word
  local line = vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1]
  if start < 0 or line:sub(start + 1, col) ~= word then
    return
  end
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(0, row - 1, start, row - 1, col, lines)
  vim.api.nvim_win_set_cursor(0, { row - 1 + #lines, #lines[#lines] })
end

local function execute(command, arguments, on_result)
  vim.lsp.buf_request(0, "workspace/executeCommand", {
    command = command,
    arguments = arguments,
  }, function(err, result)
    if err then
      vim.notify("Tiny Agent: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    elseif on_result then
      on_result(result)
    end
  end)
end

local function buffer_commands(bufnr)
  local function command(name, fn, opts)
    vim.api.nvim_buf_create_user_command(bufnr, name, fn, opts or {})
  end
  command("TinyAgentGenerate", function()
    local line = vim.api.nvim_win_get_cursor(0)[1] - 1
    execute("tinyAgent.generate", { { uri = vim.uri_from_bufnr(0), line = line } }, function(r)
      if r and r.error then
        vim.notify("Tiny Agent: " .. r.error, vim.log.levels.WARN)
      end
    end)
  end, { desc = "Write WGSL for the // comment on this line, below it" })
  command("TinyAgentTrain", function(args)
    local request = {
      config = args.fargs[1] or "config/wgsl_generation.toml",
      epochs = tonumber(args.fargs[2]),
      workspace = args.bang or nil,
    }
    execute("tinyAgent.train", { request }, function(r)
      if r and r.started == false then
        vim.notify("Tiny Agent: " .. tostring(r.reason), vim.log.levels.WARN)
      end
    end)
  end, {
    nargs = "*",
    bang = true,
    complete = "file",
    desc = "Train: [config.toml] [epochs]; ! adds this project's commented functions",
  })
  command("TinyAgentStopTraining", function()
    execute("tinyAgent.stopTraining", {})
  end)
  command("TinyAgentValidateWorkspace", function()
    execute("tinyAgent.validateWorkspace", {})
  end)
  command("TinyAgentModelInfo", function()
    execute("tinyAgent.modelInfo", {}, function(r)
      vim.lsp.util.open_floating_preview(M.info_lines(r or {}), "", { border = "single" })
    end)
  end, { desc = "The model's path, size, state and metrics, in a floating window" })
end

local function on_attach(_, bufnr)
  -- Neovim releases without the list-to-items helper have vim.lsp.completion, whose
  -- omnifunc applies the server's text edits itself.
  local own = vim.lsp.util.text_document_completion_list_to_complete_items ~= nil
  vim.bo[bufnr].omnifunc = own and "v:lua.TinyAgent.omnifunc" or "v:lua.vim.lsp.omnifunc"
  vim.api.nvim_create_autocmd("CompleteDone", {
    group = vim.api.nvim_create_augroup("TinyAgentComplete" .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = on_complete_done,
  })
  buffer_commands(bufnr)
  if options.keymaps ~= false then
    local function map(mode, lhs, rhs, desc)
      vim.keymap.set(mode, lhs, rhs, { buffer = bufnr, desc = desc })
    end
    map("n", "K", vim.lsp.buf.hover, "Hover")
    map("n", "gd", vim.lsp.buf.definition, "Go to definition")
    map("n", "gr", vim.lsp.buf.references, "References")
    map("n", "<leader>rn", vim.lsp.buf.rename, "Rename")
    map({ "n", "v" }, "<leader>ca", vim.lsp.buf.code_action, "Code action / generate")
    map("n", "<leader>tg", "<cmd>TinyAgentGenerate<cr>", "Generate WGSL from comment")
    map("n", "[d", vim.diagnostic.goto_prev, "Previous diagnostic")
    map("n", "]d", vim.diagnostic.goto_next, "Next diagnostic")
  end
end

local config = {
  name = "tiny-agent",
  cmd = cmd,
  init_options = settings,
  settings = { tinyAgent = settings },
  on_attach = on_attach,
  handlers = {
    ["tinyAgent/status"] = function(_, result)
      if type(result) == "table" then
        M.status = result
        vim.g.tiny_agent_status = result
        vim.cmd("redrawstatus")
      end
    end,
  },
}

local clients = {} -- root folder -> client id (Neovim 0.7 has no vim.lsp.start)

local function attach(bufnr)
  local root = find_root(bufnr)
  local cfg = vim.tbl_extend("force", config, {
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
  })
  if vim.lsp.start then
    vim.lsp.start(cfg, { bufnr = bufnr })
    return
  end
  local id = clients[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(cfg)
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

vim.api.nvim_create_autocmd("FileType", {
  group = vim.api.nvim_create_augroup("TinyAgentLsp", { clear = true }),
  pattern = "wgsl",
  callback = function(args)
    attach(args.buf)
  end,
})

return M
