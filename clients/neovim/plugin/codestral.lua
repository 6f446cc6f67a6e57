-- :Codestral enable|disable|toggle|status. Loads nothing else: the plugin starts with
-- require('codestral').setup().
if vim.g.loaded_codestral then
  return
end
vim.g.loaded_codestral = true

if vim.fn.exists(':Codestral') ~= 2 then
  vim.api.nvim_create_user_command('Codestral', function(args)
    require('codestral').command(args.args)
  end, {
    nargs = '?',
    desc = 'codestral: enable, disable, toggle or show status',
    complete = function(lead)
      return vim.tbl_filter(function(s)
        return s:sub(1, #lead) == lead
      end, { 'enable', 'disable', 'status', 'toggle' })
    end,
  })
end
