-- A minimal, faithful stand-in for lazy.nvim's loader (lazy.nvim is on no package registry this
-- project can reach). It does, for a non-lazy spec at startup, what lazy.nvim does:
--   * "owner/repo" -> url = opts.git.url_format:format("owner/repo") (lazy's default
--     "https://github.com/%s.git"), name = "repo", dir = opts.root .. "/repo"; `dir = ...` ->
--     that directory (expanded), name = its last component; `plugin.dir` is what `config` gets;
--   * a missing plugin is cloned: git clone --filter=blob:none --origin=origin <url> <dir>,
--     then lazy's "docs" task: :helptags <dir>/doc when that folder exists;
--   * loading: <dir> goes on 'runtimepath', its plugin/**/*.{vim,lua} files are sourced, then
--     `config(plugin, opts)` runs, or with `opts` and no config, require(main).setup(opts).
local M = { plugins = {} }

local function source_plugin_files(dir)
  for _, ext in ipairs({ 'vim', 'lua' }) do
    for _, file in ipairs(vim.fn.globpath(dir, 'plugin/**/*.' .. ext, false, true)) do
      vim.cmd.source(file)
    end
  end
end

local function install(plugin)
  if vim.uv.fs_stat(plugin.dir) then
    return
  end
  local out = vim.fn.system({
    'git', 'clone', '--filter=blob:none', '--origin=origin', plugin.url, plugin.dir,
  })
  if vim.v.shell_error ~= 0 then
    error('lazy: clone of ' .. plugin.url .. ' failed: ' .. out)
  end
  if vim.uv.fs_stat(plugin.dir .. '/doc') then
    vim.cmd.helptags(plugin.dir .. '/doc')
  end
end

function M.setup(specs, opts)
  opts = opts or {}
  local root = opts.root or (vim.fn.stdpath('data') .. '/lazy')
  local url_format = (opts.git or {}).url_format or 'https://github.com/%s.git'
  vim.fn.mkdir(root, 'p')
  for _, spec in ipairs(specs) do
    local plugin = vim.deepcopy(spec)
    if plugin.dir then
      plugin.dir = vim.fs.normalize(vim.fn.expand(plugin.dir))
      plugin.name = plugin.name or vim.fs.basename(plugin.dir)
    else
      plugin.url = url_format:format(spec[1])
      plugin.name = plugin.name or spec[1]:gsub('%.git$', ''):match('[^/]+$')
      plugin.dir = root .. '/' .. plugin.name
      install(plugin)
    end
    vim.opt.rtp:append(plugin.dir)
    source_plugin_files(plugin.dir)
    if type(plugin.config) == 'function' then
      plugin.config(plugin, plugin.opts or {})
    elseif plugin.opts or plugin.config == true then
      require(plugin.main or plugin.name).setup(plugin.opts or {})
    end
    M.plugins[plugin.name] = plugin
  end
end

return M
