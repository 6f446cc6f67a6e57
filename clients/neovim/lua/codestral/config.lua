-- Options: defaults, validation and the server settings they carry.
-- Kept free of side effects so the unit tests can check every rule.
local M = {}

--- Keys the server accepts in initializationOptions / didChangeConfiguration (config.py).
M.server_keys = {
  'enabled', 'disabled_languages', 'backend', 'model', 'template', 'max_tokens', 'temperature',
  'prefix_tokens', 'suffix_tokens', 'context_tokens', 'timeout_ms', 'eval_budget_ms', 'layout',
  'window_grid', 'debounce_ms', 'cache_entries', 'type_through', 'speculate', 'candidates', 'n_ctx',
  'n_threads', 'n_gpu_layers', 'token_healing', 'api_base', 'api_key', 'remote_model', 'raw_prompt',
  'connect_timeout_ms', 'request_timeout_ms', 'allow_insecure_http', 'exclude',
  'completion_item', 'log_level',
}

M.defaults = {
  cmd = { 'codestral-ls' }, -- how to start the server (list, or a string for one word)
  log_file = nil, -- passed to the server as --log-file when set
  filetypes = nil, -- nil: every filetype; or a list of filetypes to attach to
  exclude_filetypes = { 'help', 'TelescopePrompt', 'snacks_picker_input' },
  max_file_bytes = 1024 * 1024, -- never attach to files larger than this
  root_markers = { '.git' },
  mode = 'auto', -- 'auto': native inline completion on 0.12+, 'native', or 'fallback'
  auto_trigger = true, -- request suggestions while typing (false: only the trigger key)
  debounce_ms = 150, -- fallback path: quiet time before a request (0.12 native: 200 ms fixed)
  show_with_menu = false, -- also show suggestions while a completion menu is open
  notify = true, -- surface server errors through vim.notify (once per distinct message)
  focus = true, -- tell the server where the cursor rests (codestral/didFocus), for a fast first suggestion
  keys = {
    accept = '<Tab>',
    accept_word = '<M-Right>',
    accept_line = '<M-C-Right>',
    dismiss = '<C-]>',
    next = '<M-]>',
    prev = '<M-[>',
    trigger = '<M-\\>',
  },
  settings = {}, -- server settings (snake_case keys, see :help codestral-settings)
}

local modes = { auto = true, native = true, fallback = true }

local function is_list_of_strings(v)
  if type(v) ~= 'table' then
    return false
  end
  for k, item in pairs(v) do
    if type(k) ~= 'number' or type(item) ~= 'string' then
      return false
    end
  end
  return true
end

local function contains(list, value)
  for _, item in ipairs(list) do
    if item == value then
      return true
    end
  end
  return false
end

--- Merge user options over the defaults and check them.
--- Returns the options, or nil and a message naming the offending key.
---@param user table|nil
---@return table|nil, string|nil
function M.resolve(user)
  user = user or {}
  if type(user) ~= 'table' then
    return nil, 'codestral: setup() expects a table of options'
  end
  for key in pairs(user) do
    local internal = type(key) == 'string' and key:sub(1, 1) == '_'
    if M.defaults[key] == nil and key ~= 'log_file' and key ~= 'filetypes' and not internal then
      return nil, ('codestral: unknown option %q'):format(tostring(key))
    end
  end
  local opts = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), user)
  -- Lists replace, never merge index by index.
  for _, key in ipairs({ 'exclude_filetypes', 'root_markers', 'filetypes' }) do
    if user[key] ~= nil then
      opts[key] = vim.deepcopy(user[key])
    end
  end
  if type(opts.cmd) == 'string' then
    opts.cmd = { opts.cmd }
  end
  if user.cmd ~= nil and type(user.cmd) ~= 'function' then
    opts.cmd = type(user.cmd) == 'string' and { user.cmd } or vim.deepcopy(user.cmd)
  end
  if type(user.cmd) == 'function' then
    opts.cmd = user.cmd -- e.g. vim.lsp.rpc.connect('127.0.0.1', 8765) for a server over TCP
  elseif not is_list_of_strings(opts.cmd) or #opts.cmd == 0 then
    return nil, 'codestral: option "cmd" must be a list of strings or a function'
  end
  if opts.filetypes ~= nil and not is_list_of_strings(opts.filetypes) then
    return nil, 'codestral: option "filetypes" must be a list of strings'
  end
  for _, key in ipairs({ 'exclude_filetypes', 'root_markers' }) do
    if not is_list_of_strings(opts[key]) then
      return nil, ('codestral: option %q must be a list of strings'):format(key)
    end
  end
  if not modes[opts.mode] then
    return nil, 'codestral: option "mode" must be "auto", "native" or "fallback"'
  end
  for _, key in ipairs({ 'max_file_bytes', 'debounce_ms' }) do
    if type(opts[key]) ~= 'number' or opts[key] < 0 then
      return nil, ('codestral: option %q must be a number >= 0'):format(key)
    end
  end
  for _, key in ipairs({ 'auto_trigger', 'show_with_menu', 'notify', 'focus' }) do
    if type(opts[key]) ~= 'boolean' then
      return nil, ('codestral: option %q must be true or false'):format(key)
    end
  end
  if opts.log_file ~= nil and type(opts.log_file) ~= 'string' then
    return nil, 'codestral: option "log_file" must be a path'
  end
  for name, lhs in pairs(opts.keys) do
    if M.defaults.keys[name] == nil then
      return nil, ('codestral: unknown key %q in "keys"'):format(tostring(name))
    end
    if lhs ~= false and type(lhs) ~= 'string' then
      return nil, ('codestral: keys.%s must be a key (string) or false'):format(name)
    end
  end
  local err = M.check_settings(opts.settings)
  if err then
    return nil, err
  end
  return opts, nil
end

--- A message for the first unknown server setting, or nil.
---@param settings table
---@return string|nil
function M.check_settings(settings)
  if type(settings) ~= 'table' then
    return 'codestral: option "settings" must be a table'
  end
  for key in pairs(settings) do
    if not contains(M.server_keys, key) then
      return ('codestral: unknown server setting %q (see :help codestral-settings)'):format(
        tostring(key)
      )
    end
  end
  return nil
end

--- The server's command line for these options.
---@param opts table
---@return string[]|function
function M.command(opts)
  if type(opts.cmd) == 'function' then
    return opts.cmd
  end
  local cmd = vim.deepcopy(opts.cmd)
  if opts.log_file then
    table.insert(cmd, '--log-file')
    table.insert(cmd, opts.log_file)
  end
  return cmd
end

--- Settings in the shape the server reads: `{ codestral = {...} }`, never a JSON array.
---@param settings table
---@return table
function M.payload(settings)
  if next(settings) == nil then
    return { codestral = vim.empty_dict() }
  end
  return { codestral = vim.deepcopy(settings) }
end

return M
