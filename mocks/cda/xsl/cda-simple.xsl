<?xml version="1.0" encoding="UTF-8"?>
<!-- Ségur Sandbox: a small display of a CDA R2 document (header and narrative blocks), used when
     the ANS display stylesheet (FeuilleDeStyle/cda_CRBIO.xsl) is not installed. XSLT 1.0. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:h="urn:hl7-org:v3"
                exclude-result-prefixes="h">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>
  <xsl:template match="/">
    <html lang="fr">
      <head>
        <meta charset="utf-8"/>
        <title><xsl:value-of select="/h:ClinicalDocument/h:title"/></title>
        <style>body{font-family:sans-serif;margin:2em;max-width:60em}th{text-align:left;padding-right:1em}
          table.n{border-collapse:collapse}table.n td,table.n th{border:1px solid #999;padding:.2em .4em}
          .hdr{background:#f3f3f3;padding:1em;border-radius:.3em}</style>
      </head>
      <body>
        <h1><xsl:value-of select="/h:ClinicalDocument/h:title"/></h1>
        <div class="hdr"><table>
          <tr><th>Patient</th><td><xsl:apply-templates select="/h:ClinicalDocument/h:recordTarget/h:patientRole/h:patient/h:name"/></td></tr>
          <tr><th>Né(e) le</th><td><xsl:value-of select="/h:ClinicalDocument/h:recordTarget/h:patientRole/h:patient/h:birthTime/@value"/></td></tr>
          <xsl:for-each select="/h:ClinicalDocument/h:recordTarget/h:patientRole/h:id">
            <tr><th>Identifiant</th><td><xsl:value-of select="@extension"/> (<xsl:value-of select="@root"/>)</td></tr>
          </xsl:for-each>
          <tr><th>Type</th><td><xsl:value-of select="/h:ClinicalDocument/h:code/@displayName"/> (<xsl:value-of select="/h:ClinicalDocument/h:code/@code"/>)</td></tr>
          <tr><th>Date</th><td><xsl:value-of select="/h:ClinicalDocument/h:effectiveTime/@value"/></td></tr>
          <xsl:for-each select="/h:ClinicalDocument/h:author/h:assignedAuthor">
            <tr><th>Auteur</th><td><xsl:apply-templates select="h:assignedPerson/h:name"/> — <xsl:value-of select="h:representedOrganization/h:name"/></td></tr>
          </xsl:for-each>
          <xsl:for-each select="/h:ClinicalDocument/h:informationRecipient/h:intendedRecipient">
            <tr><th>Destinataire</th><td><xsl:apply-templates select="h:informationRecipient/h:name"/></td></tr>
          </xsl:for-each>
          <tr><th>Responsable</th><td><xsl:apply-templates select="/h:ClinicalDocument/h:legalAuthenticator/h:assignedEntity/h:assignedPerson/h:name"/></td></tr>
        </table></div>
        <xsl:apply-templates select="/h:ClinicalDocument/h:component/h:structuredBody/h:component/h:section"/>
      </body>
    </html>
  </xsl:template>
  <xsl:template match="h:name"><xsl:for-each select="*"><xsl:value-of select="."/><xsl:text> </xsl:text></xsl:for-each></xsl:template>
  <xsl:template match="h:section">
    <section>
      <h2><xsl:value-of select="h:title"/></h2>
      <xsl:apply-templates select="h:text"/>
      <xsl:apply-templates select="h:component/h:section"/>
    </section>
  </xsl:template>
  <xsl:template match="h:text"><div><xsl:apply-templates/></div></xsl:template>
  <xsl:template match="h:paragraph"><p><xsl:apply-templates/></p></xsl:template>
  <xsl:template match="h:br"><br/></xsl:template>
  <xsl:template match="h:list"><ul><xsl:apply-templates/></ul></xsl:template>
  <xsl:template match="h:item"><li><xsl:apply-templates/></li></xsl:template>
  <xsl:template match="h:table"><table class="n"><xsl:apply-templates/></table></xsl:template>
  <xsl:template match="h:thead|h:tbody|h:tr|h:th|h:td|h:caption">
    <xsl:element name="{local-name()}"><xsl:apply-templates/></xsl:element>
  </xsl:template>
  <xsl:template match="h:content|h:sub|h:sup|h:footnote|h:linkHtml"><span><xsl:apply-templates/></span></xsl:template>
  <xsl:template match="h:renderMultiMedia"/>
</xsl:stylesheet>
