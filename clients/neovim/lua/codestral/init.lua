-- codestral.nvim: inline code completion from codestral-ls.
--   require('codestral').setup({})
local config = require('codestral.config')
local controller = require('codestral.controller')
local focus = require('codestral.focus')
local ghost = require('codestral.ghost')
local keys = require('codestral.keys')
local lsp = require('codestral.lsp')
local native = require('codestral.native')
local status = require('codestral.status')
local api = vim.api

local M = {}

---@type table|nil resolved options, nil until setup()
M.opts = nil

--- Which code path draws suggestions for these options on this Neovim.
---@param mode string
---@return 'native'|'fallback'
function M.choose_path(mode)
  if mode == 'fallback' or not native.available() then
    return 'fallback'
  end
  return 'native'
end

local function cur()
  return api.nvim_get_current_buf()
end

--- Accept all of the shown suggestion, or its next 'word' or 'line'.
---@param kind? 'all'|'word'|'line'
---@return boolean accepted
function M.accept(kind)
  kind = kind or 'all'
  local bufnr = cur()
  if ghost.visible(bufnr) then
    return ghost.accept(bufnr, kind)
  end
  if controller.path == 'native' and native.visible(bufnr) then
    return native.accept(bufnr, kind)
  end
  return false
end

function M.accept_word()
  return M.accept('word')
end

function M.accept_line()
  return M.accept('line')
end

--- Hide the shown suggestion.
---@return boolean
function M.dismiss()
  local bufnr = cur()
  if ghost.visible(bufnr) then
    controller.reset(bufnr)
    return true
  end
  if controller.path == 'native' and native.visible(bufnr) then
    return native.dismiss(bufnr)
  end
  return false
end

--- Show the next (1) or previous (-1) suggestion. The server offers alternatives only to an
--- explicit request: when the shown suggestion answered an automatic one, ask explicitly first
--- (the shown item stays until the answer, then the one `delta` away from the first is shown).
---@param delta integer
---@return boolean
function M.cycle(delta)
  local bufnr = cur()
  if ghost.visible(bufnr) then
    if ghost.cycle(bufnr, delta) then
      return true
    end
    local shown = ghost.get(bufnr)
    if shown and shown.explicit then
      return true -- the server has no other suggestion here
    end
    return controller.alternatives(bufnr, delta)
  end
  if controller.path == 'native' and native.visible(bufnr) then
    if (native.count(bufnr) or 1) > 1 then
      native.cycle(bufnr, delta)
      return true
    end
    return controller.alternatives(bufnr, delta)
  end
  return false
end

function M.next()
  return M.cycle(1)
end

function M.prev()
  return M.cycle(-1)
end

--- Request a suggestion now: an explicit request, answered with all the server's candidates
--- (cycle them with next/previous). A suggestion shown from an explicit request stays as it is.
---@return boolean
function M.trigger()
  local bufnr = cur()
  local shown = ghost.get(bufnr)
  if shown and shown.explicit and ghost.visible(bufnr) then
    return true
  end
  return controller.trigger(bufnr)
end

--- Whether a suggestion is on screen in the current buffer.
---@return boolean
function M.visible()
  local bufnr = cur()
  return ghost.visible(bufnr) or (controller.path == 'native' and native.visible(bufnr))
end

---@return boolean
function M.is_enabled()
  return controller.enabled
end

function M.enable()
  M.set_enabled(true)
end

function M.disable()
  M.set_enabled(false)
end

function M.toggle()
  M.set_enabled(not controller.enabled)
end

---@param on boolean
function M.set_enabled(on)
  if not M.opts then
    vim.notify('codestral: call require("codestral").setup() first', vim.log.levels.WARN)
    return
  end
  controller.set_enabled(on)
  M.opts.settings.enabled = on
  lsp.push_settings(M.opts.settings)
end

--- Change server settings while running (sent with workspace/didChangeConfiguration).
---@param settings table snake_case server settings
function M.update_settings(settings)
  if not M.opts then
    return
  end
  local err = config.check_settings(settings)
  if err then
    vim.notify(err, vim.log.levels.ERROR)
    return
  end
  M.opts.settings = vim.tbl_extend('force', M.opts.settings, settings)
  lsp.push_settings(M.opts.settings)
end

--- Text for a statusline, e.g. `%{v:lua.require'codestral'.statusline()}`.
---@return string
function M.statusline()
  if not M.opts then
    return ''
  end
  return status.format(status.last, controller.enabled, lsp.client(cur()) ~= nil)
end

--- `:Codestral status`: asks the server for a fresh status, then echoes it.
function M.show_status()
  local client = lsp.client(cur()) or lsp.clients()[1]
  local function echo()
    local lines = status.describe(status.last, {
      enabled = controller.enabled,
      path = controller.path,
      attached = lsp.client(cur()) ~= nil,
    })
    api.nvim_echo({ { table.concat(lines, '\n') } }, true, {})
  end
  if not client then
    echo()
    return
  end
  lsp.request(client, 'codestral/status', vim.empty_dict(), function(err, result)
    if not err and type(result) == 'table' then
      status.update(result)
    end
    echo()
  end, cur())
end

local commands = {
  enable = M.enable,
  disable = M.disable,
  toggle = M.toggle,
  status = M.show_status,
}

--- Entry of `:Codestral {sub}`.
---@param sub string
function M.command(sub)
  local fn = commands[sub ~= '' and sub or 'status']
  if not fn then
    vim.notify('codestral: unknown subcommand ' .. sub .. ' (enable|disable|toggle|status)', vim.log.levels.ERROR)
    return
  end
  if not M.opts and sub ~= 'status' then
    vim.notify('codestral: call require("codestral").setup() first', vim.log.levels.WARN)
    return
  end
  fn()
end

---@return string[]
function M.subcommands()
  return { 'enable', 'disable', 'status', 'toggle' }
end

local function map_keys(k)
  keys.skipped = {}
  keys.map(k.accept, M.accept, 'accept suggestion', true)
  keys.map(k.accept_word, M.accept_word, 'accept next word', true)
  keys.map(k.accept_line, M.accept_line, 'accept next line', true)
  keys.map(k.dismiss, M.dismiss, 'dismiss suggestion', true)
  keys.map(k.next, M.next, 'next suggestion', true)
  keys.map(k.prev, M.prev, 'previous suggestion', true)
  keys.map(k.trigger, M.trigger, 'request suggestion', false)
  if #keys.skipped > 0 then
    vim.notify(
      'codestral: kept existing insert-mode mappings for '
        .. table.concat(keys.skipped, ', ')
        .. '; choose other keys with setup({ keys = { ... } })',
      vim.log.levels.WARN
    )
  end
end

--- Define `:Codestral` (also done by plugin/codestral.lua; setup() repeats it for plugin
--- managers that add the plugin to 'runtimepath' after startup).
function M.create_command()
  if vim.fn.exists(':Codestral') == 2 then
    return
  end
  api.nvim_create_user_command('Codestral', function(args)
    M.command(args.args)
  end, {
    nargs = '?',
    desc = 'codestral: enable, disable, toggle or show status',
    complete = function(lead)
      return vim.tbl_filter(function(s)
        return s:sub(1, #lead) == lead
      end, M.subcommands())
    end,
  })
end

--- Start the plugin. Calling it again replaces the options (the running server gets the
--- new settings through workspace/didChangeConfiguration).
---@param user_opts table|nil
function M.setup(user_opts)
  local opts, err = config.resolve(user_opts)
  if not opts then
    vim.notify(err, vim.log.levels.ERROR)
    return
  end
  local first = M.opts == nil
  M.opts = opts
  M.create_command()
  status.notify_enabled = opts.notify
  controller.opts = opts
  controller.path = M.choose_path(opts.mode)
  ghost.define_highlight()
  api.nvim_create_autocmd('ColorScheme', {
    group = api.nvim_create_augroup('codestral.hl', { clear = true }),
    callback = ghost.define_highlight,
  })
  controller.setup_global()
  focus.setup_global()
  map_keys(opts.keys)
  if not first then
    lsp.push_settings(opts.settings)
  end
  if type(opts.cmd) == 'table' and vim.fn.executable(opts.cmd[1]) ~= 1 then
    -- Say it once here rather than once per buffer from vim.lsp.start.
    vim.notify(
      ('codestral: %q not found; install codestral-ls (pip install "codestral-ls[local]") '):format(
        opts.cmd[1]
      ) .. 'or set setup({ cmd = { "/path/to/codestral-ls" } }); see :checkhealth codestral',
      vim.log.levels.ERROR
    )
    return
  end
  lsp.start(opts, {
    on_attach = function(_, bufnr)
      controller.attach(bufnr)
      focus.attach(bufnr)
    end,
    on_status = function(before, now)
      if before == 'loading' and now == 'ready' then
        -- Whatever the server was told while it loaded is lost: tell it again.
        focus.forget()
        controller.on_ready()
        focus.on_ready()
      end
    end,
  })
end

return M
